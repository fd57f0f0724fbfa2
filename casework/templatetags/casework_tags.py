from django import template

from partners.choices import Domain

from ..choices import Difficulty

register = template.Library()
LABELS = {"difficulties": dict(Difficulty.choices), "domains": dict(Domain.choices)}


@register.filter
def labels(codes, kind="difficulties"):
    """A list of codes as their translated labels, joined: ["economic"] → "경제적 어려움"."""
    names = LABELS.get(kind, {})
    return ", ".join(str(names.get(code, code)) for code in codes or [])


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def level_label(assessment):
    from casework import instruments

    return instruments.level_label(assessment.instrument, assessment.level)


@register.filter
def localized(entry):
    """A data file's {ko: ..., en: ...} label in the page's language (Korean by default)."""
    from casework import instruments

    return instruments.label(entry)
