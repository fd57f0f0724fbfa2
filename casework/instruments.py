"""Assessment instruments, defined as data in casework/data/instruments/*.yaml."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _

DATA_DIR = Path(__file__).parent / "data" / "instruments"


@cache
def instruments() -> dict[str, dict]:
    found = {}
    for path in sorted(DATA_DIR.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            definition = yaml.safe_load(fh)
        found[definition["code"]] = definition
    return found


def label(entry: dict) -> str:
    return entry["en"] if (get_language() or "ko").startswith("en") else entry["ko"]


def items(definition: dict) -> list[dict]:
    return [item for section in definition["sections"] for item in section["items"]]


@dataclass
class Scored:
    answers: dict[str, int]
    score: int
    level: str


def _answer_value(answer) -> int | None:
    """An answer as a number: an int, a whole float or its digits as text; not a list, a
    boolean, or 1.5 read as 1."""
    if isinstance(answer, str):
        return int(answer) if answer.strip().isdecimal() else None
    if type(answer) is int or (type(answer) is float and answer.is_integer()):
        return int(answer)
    return None


def score(code: str, answers: dict) -> Scored:
    definition = instruments().get(code) if isinstance(code, str) else None
    if definition is None:
        raise ValidationError({"instrument": _("알 수 없는 평가 도구입니다.")})
    if not isinstance(answers, dict):
        raise ValidationError({"answers": _("응답은 문항 코드와 답의 객체여야 합니다.")})
    values = {option["value"] for option in definition["scale"]}
    codes = [item["code"] for item in items(definition)]
    unknown = set(answers or {}) - set(codes)
    if unknown:
        raise ValidationError({"answers": _("알 수 없는 문항: %s") % ", ".join(sorted(unknown))})
    missing = [c for c in codes if c not in (answers or {})]
    if missing:
        raise ValidationError({"answers": _("모든 문항에 답해 주세요 (%d개 남음).") % len(missing)})
    cleaned = {}
    for item_code in codes:
        value = _answer_value(answers[item_code])
        if value not in values:
            raise ValidationError({"answers": _("%s 문항의 답이 올바르지 않습니다.") % item_code})
        cleaned[item_code] = value
    total = sum(cleaned.values())
    level = definition["levels"][0]["code"]
    for entry in definition["levels"]:
        if total >= entry["min"]:
            level = entry["code"]
    if any(cleaned.get(c, 0) >= 2 for c in definition.get("critical_items", [])):
        level = definition["levels"][-1]["code"]
    return Scored(answers=cleaned, score=total, level=level)


def level_label(code: str, level: str) -> str:
    definition = instruments().get(code) or {"levels": []}
    for entry in definition["levels"]:
        if entry["code"] == level:
            return label(entry)
    return level
