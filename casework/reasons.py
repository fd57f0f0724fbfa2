"""The reasons Ieum records for what a workflow does by itself ("사례 개설", "검토: attach").

They are stored in the source language — the Korean text that is the catalogue's msgid — whatever
the language of the person acting, and shown in the reader's language by `shown()`: a fixed reason
through the catalogue (workflows mark them with `gettext_noop`), a patterned one ("담당자: 김민지") by its template, with codes labelled. What
a person typed is not in the catalogue and is shown as they typed it."""

import datetime
import re
from functools import lru_cache

from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop

from casework.models import Concern, Decision

# Reasons with values, by name: the template (a msgid) and, for values that are codes, the
# choices that label them.
TEMPLATES = {
    "triage": (gettext_noop("검토: %(decision)s"), {"decision": Concern.Triage}),
    "decision": (gettext_noop("결정: %(decision)s"), {"decision": Decision.Kind}),
    "lead_office": (gettext_noop("주관 기관: %(office)s"), {}),
    "assignee": (gettext_noop("담당자: %(name)s"), {}),
    "transfer": (gettext_noop("전학 이관: %(old)s → %(new)s"), {}),
    "transfer_sender": (gettext_noop("전학 이관: 보낸 기관 %(old)s → %(new)s"), {}),
    "plan_returned": (gettext_noop("반려: %(reason)s"), {}),
    "lead_lapsed": (gettext_noop("동의 만료로 주관 기관 해제: %(office)s → %(school)s"), {}),
    "lead_withdrawn": (gettext_noop("동의 철회로 주관 기관 해제: %(office)s → %(school)s"), {}),
    "consent_lapsed": (gettext_noop("동의 만료로 취소: 만료일 %(date)s"), {}),
    "consent_withdrawn": (gettext_noop("동의 철회로 취소: %(reason)s"), {}),
}
_FIELD = re.compile(r"%\((\w+)\)s")
# Values stored as ISO dates (2026-11-30) and shown in the reader's date format.
DATES = frozenset({"date"})


def patterned(which: str, /, **values) -> str:
    """The reason `which` of TEMPLATES with its values, as stored (Korean)."""
    template, _codes = TEMPLATES[which]
    return template % {key: str(value) for key, value in values.items()}


@lru_cache
def _patterns():
    found = []
    for template, codes in TEMPLATES.values():
        parts = _FIELD.split(template)  # text, name, text, name, …, text
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
        )
        found.append((re.compile(f"^{regex}$", re.DOTALL), template, codes))
    return found


def shown(stored: str) -> str:
    """A stored reason in the reader's language."""
    if not stored:
        return ""
    translated = gettext(stored)
    if translated != stored:
        return translated
    for pattern, template, codes in _patterns():
        match = pattern.match(stored)
        if match:
            values = match.groupdict()
            for key, choices in codes.items():
                if values[key] in choices.values:
                    values[key] = str(choices(values[key]).label)
            for key in DATES & values.keys():
                try:
                    day = datetime.date.fromisoformat(values[key])
                except ValueError:
                    continue
                values[key] = date_format(day, "DATE_FORMAT")
            return gettext(template) % values
    return stored
