"""Personal identifiers in free text (DESIGN.md §9; PIPA 24조의2: a resident registration number
is processed only where a law requires it, and nothing in Ieum does).

`resident_numbers` finds 주민등록번호 and 외국인등록번호 (six digits of a birth date, an optional
hyphen, a seventh digit 1–8 and six more); `mask_phone_numbers` hides Korean telephone numbers
(mobile, area codes, 070, 050x) digit by digit, keeping their shape so a reader sees that a
number was there.
"""

import re

from django.utils.translation import gettext_lazy as _

RESIDENT_NUMBER = re.compile(
    r"(?<![\d])"
    r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"  # YYMMDD
    r"\s?[-‐‑–—]?\s?"
    r"[1-8]\d{6}"
    r"(?![\d])"
)
PHONE_NUMBER = re.compile(
    r"(?<![\d])"
    r"(?:\+82[-\s.]?\(?0?|\(?0)"  # +82 drops the leading 0
    r"(?:1[016789]|2|[3-6][1-5]|70|50\d)\)?[-\s.]?\d{3,4}[-\s.]?\d{4}"
    r"(?![\d])"
)

REFUSED = _(
    "주민등록번호나 외국인등록번호로 보이는 번호가 있습니다. 이음에는 적을 수 없으니 지우고 "
    "다시 저장하세요."
)


def has_resident_number(text) -> bool:
    return isinstance(text, str) and RESIDENT_NUMBER.search(text) is not None


def mask_phone_numbers(text):
    """`text` with every telephone number's digits replaced by '*' (other values as they are)."""
    if not isinstance(text, str):
        return text
    return PHONE_NUMBER.sub(lambda m: re.sub(r"\d", "*", m.group(0)), text)
