from functools import cache

from django import template
from django.utils.translation import get_language

from partners.choices import Domain

from ..choices import OBJECT_TYPE_LABELS, Difficulty

register = template.Library()
LABELS = {"difficulties": dict(Difficulty.choices), "domains": dict(Domain.choices)}


@register.filter
def labels(codes, kind="difficulties"):
    """A list of codes as their translated labels, joined: ["economic"] → "경제적 어려움"."""
    names = LABELS.get(kind, {})
    return ", ".join(str(names.get(code, code)) for code in codes or [])


@register.filter
def object_type_label(code):
    """An access event's object type in the reader's language: "case" → "사례"."""
    return OBJECT_TYPE_LABELS.get(code, code)


@register.filter
def reason(stored):
    """A reason Ieum recorded by itself ("동의 철회로 취소: …") in the reader's language; what a
    person typed as they typed it (casework/reasons.py)."""
    from casework import reasons

    return reasons.shown(stored or "")


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


@cache
def _choice_labels(model, field_name: str, language: str) -> dict:
    return {value: str(label) for value, label in model._meta.get_field(field_name).flatchoices}


@register.filter
def label_of(obj, field_name: str):
    """`obj.get_<field_name>_display()` for list rows: Django rebuilds the field's choices (and
    translates every label) on each call; this reads a dict built once per field and language."""
    value = getattr(obj, field_name)
    return _choice_labels(type(obj), field_name, get_language() or "ko").get(value, value)
