"""Indicator imports (DESIGN.md §11): NEIS attendance summaries, 기초학력 진단 results and
학생정서·행동특성검사 levels, read like a roster (CSV in UTF-8 or CP949, or XLSX; row errors
`{row, field, message}` numbered as the spreadsheet shows them) and matched to the school's
students like a roster (NEIS id first, else name and birth date).

`parse_indicators` reads and checks every row and matches it, without writing;
`write_indicators` stores the rows in one statement per file (INSERT … ON CONFLICT), with history
rows in bulk. A row whose values are already stored is left as it is, so that its `updated_at`
says when the evidence last changed.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import (
    Achievement,
    AttendanceSummary,
    BasicLearningResult,
    IndicatorKind,
    Job,
    ScreeningLevel,
    ScreeningResult,
    Student,
)
from core.bulk import insert_history
from partners.models import Organization, User

from .files import HEADER_SCAN_ROWS, MAX_ROWS, RosterFileError, cell_text, read_table
from .parse import DATE_FORMATS, HEADER_NOISE, RRN_HEADERS, SPACES, without_gc

CHANGE_REASON = "지표 가져오기"

# Column header → field, compared without spaces or `*` and case-insensitively.
IDENTITY = {
    "name": ["성명", "이름", "학생명", "학생이름", "학생성명"],
    "birth_date": ["생년월일", "생일"],
    "neis_id": ["NEIS 식별번호", "NEIS 학생 식별번호", "학생개인번호", "학생 식별번호", "학번"],
}
COUNTS = {
    "school_days": ["수업일수"],
    "absent_illness": ["질병결석", "질병 결석", "결석(질병)", "질병"],
    "absent_unexcused": ["미인정결석", "미인정 결석", "결석(미인정)", "미인정"],
    "absent_other": ["기타결석", "기타 결석", "결석(기타)", "기타"],
    "late": ["지각"],
    "early_leave": ["조퇴"],
    "missed_classes": ["결과"],
}
COLUMNS = {
    IndicatorKind.ATTENDANCE: {
        **IDENTITY,
        "period_start": ["기간 시작일", "시작일", "기간시작"],
        "period_end": ["기간 종료일", "종료일", "기간종료"],
        **COUNTS,
    },
    IndicatorKind.BASIC_LEARNING: {
        **IDENTITY,
        "assessed_on": ["진단일", "검사일", "진단 일자"],
        "subject": ["과목", "교과"],
        "result": ["결과", "진단 결과", "판정"],
    },
    IndicatorKind.SCREENING: {
        **IDENTITY,
        "assessed_on": ["검사일", "검사 일자", "실시일"],
        "level": ["결과", "검사 결과", "판정", "유형"],
    },
}
REQUIRED = {
    IndicatorKind.ATTENDANCE: ("period_start", "period_end", "school_days", "absent_unexcused"),
    IndicatorKind.BASIC_LEARNING: ("assessed_on", "subject", "result"),
    IndicatorKind.SCREENING: ("assessed_on", "level"),
}
ACHIEVEMENT = {"도달": Achievement.REACHED, "미도달": Achievement.NOT_REACHED}
LEVELS = {
    "정상": ScreeningLevel.NORMAL,
    "정상군": ScreeningLevel.NORMAL,
    "관심군": ScreeningLevel.INTEREST,
    "일반관리": ScreeningLevel.INTEREST,
    "일반관리군": ScreeningLevel.INTEREST,
    "우선관리": ScreeningLevel.PRIORITY,
    "우선관리군": ScreeningLevel.PRIORITY,
    "자살위험": ScreeningLevel.SUICIDE_RISK,
    "자살위기": ScreeningLevel.SUICIDE_RISK,
}
MODELS = {
    IndicatorKind.ATTENDANCE: AttendanceSummary,
    IndicatorKind.BASIC_LEARNING: BasicLearningResult,
    IndicatorKind.SCREENING: ScreeningResult,
}
# The values each kind stores, after student_id (in the order of `IndicatorRow.values`).
VALUES = {
    IndicatorKind.ATTENDANCE: ("period_start", "period_end", *COUNTS),
    IndicatorKind.BASIC_LEARNING: ("assessed_on", "subject", "result"),
    IndicatorKind.SCREENING: ("assessed_on", "level"),
}
KEYS = {
    IndicatorKind.ATTENDANCE: ("student_id", "period_start", "period_end"),
    IndicatorKind.BASIC_LEARNING: ("student_id", "assessed_on", "subject"),
    IndicatorKind.SCREENING: ("student_id", "assessed_on"),
}
SQL_TYPES = {"period_start": "date", "period_end": "date", "assessed_on": "date"}


def _date(value) -> date | None:
    """A date cell as the roster reads one: a date, an Excel serial number or text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 100_000:
        from openpyxl.utils.datetime import from_excel

        try:
            return from_excel(value).date()
        except (OverflowError, ValueError):
            return None
    text = SPACES.sub("", cell_text(value))
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _int(value, low: int, high: int, suffix: str) -> int | None:
    """A whole number between `low` and `high`, perhaps written with its unit ("3일")."""
    text = cell_text(value).removesuffix(suffix).strip()
    if not text.isdecimal() or len(text) > 6:
        return None
    number = int(text)
    return number if low <= number <= high else None


def _key(title) -> str:
    return HEADER_NOISE.sub("", cell_text(title)).lower()


@dataclass
class IndicatorRow:
    row: int
    student_id: object
    values: dict


@dataclass
class ParsedIndicators:
    kind: str
    rows: list[IndicatorRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    total: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def error(self, row, column: str, message) -> None:
        self.errors.append({"row": row, "field": column, "message": str(message)})


@without_gc
def parse_indicators(data: bytes, file_name: str, *, kind: str, school: Organization):
    """Read, check and match an indicator file of `kind` against `school`'s students."""
    parsed = ParsedIndicators(kind=kind)
    try:
        table = read_table(data, file_name)
    except RosterFileError as exc:
        parsed.error(exc.row, "", str(exc))
        return parsed
    if not table:
        parsed.error(1, "", _("파일에 내용이 없습니다."))
        return parsed
    aliases = {_key(alias): name for name, names in COLUMNS[kind].items() for alias in names}

    def columns_of(header) -> dict[str, int]:
        found: dict[str, int] = {}
        for position, title in enumerate(header):
            name = aliases.get(_key(title))
            if name and name not in found:
                found[name] = position
        return found

    header_at = max(
        range(min(HEADER_SCAN_ROWS, len(table))), key=lambda i: (len(columns_of(table[i][1])), -i)
    )
    header_row, header = table[header_at]
    titles = [cell_text(c) for c in header]
    for title in titles:
        if any(word in _key(title) for word in RRN_HEADERS):
            parsed.error(
                header_row,
                title,
                _("주민등록번호는 이음에 저장할 수 없습니다. 해당 열을 지운 뒤 다시 올려 주세요."),
            )
            return parsed
    index = columns_of(header)
    parsed.columns = {name: titles[position] for name, position in index.items()}
    labels = COLUMNS[kind]
    missing = [labels[name][0] for name in REQUIRED[kind] if name not in index]
    if "neis_id" not in index and not ("name" in index and "birth_date" in index):
        missing.append(_("NEIS 식별번호 또는 성명과 생년월일"))
    if missing:
        parsed.error(
            header_row, ", ".join(missing), _("필수 열이 없습니다: %s") % ", ".join(missing)
        )
        return parsed
    body = table[header_at + 1 :]
    if not body:
        parsed.error(header_row, "", _("파일에 내용이 없습니다."))
        return parsed
    if len(body) > MAX_ROWS:
        parsed.error(
            header_row,
            "",
            _("한 번에 가져올 수 있는 행은 최대 %(max)s개입니다. 파일을 나누어 올려 주세요.")
            % {"max": f"{MAX_ROWS:,}"},
        )
        return parsed
    parsed.total = len(body)

    students = list(
        Student.objects.filter(school=school).values_list("pk", "name", "birth_date", "neis_id")
    )
    by_neis = {neis: pk for pk, _name, _born, neis in students if neis}
    by_person = defaultdict(list)
    for pk, name, born, _neis in students:
        by_person[(name, born)].append(pk)
    today = timezone.localdate()
    seen: dict[tuple, int] = {}
    for number, cells in body:

        def cell(name, cells=cells):
            position = index.get(name)
            return cells[position] if position is not None and position < len(cells) else None

        before = len(parsed.errors)
        values = _values(parsed, kind, number, cell, today)
        student_id = _match(parsed, number, cell, by_neis, by_person)
        if len(parsed.errors) > before or student_id is None:
            continue
        key = (student_id, *(values[name] for name in KEYS[kind][1:]))
        if key in seen:
            parsed.error(
                number,
                parsed.columns.get("neis_id") or parsed.columns.get("name", ""),
                _("같은 파일에 같은 학생의 같은 기록이 두 번 있습니다 (%d행과 같음).") % seen[key],
            )
            continue
        seen[key] = number
        parsed.rows.append(IndicatorRow(number, student_id, values))
    return parsed


def _values(parsed: ParsedIndicators, kind: str, number: int, cell, today: date) -> dict:
    columns = parsed.columns
    values: dict = {}
    if kind == IndicatorKind.ATTENDANCE:
        for name in ("period_start", "period_end"):
            values[name] = _date(cell(name))
            if values[name] is None:
                parsed.error(
                    number, columns[name], _("날짜 형식이 올바르지 않습니다 (예: 2026-03-31).")
                )
        start, end = values["period_start"], values["period_end"]
        if start and end and end < start:
            parsed.error(number, columns["period_end"], _("기간 종료일이 시작일보다 앞입니다."))
        for name in COUNTS:
            raw = cell(name)
            if name not in columns or not cell_text(raw):
                if name in REQUIRED[kind]:
                    parsed.error(number, columns[name], _("값이 비어 있습니다."))
                values[name] = 0
                continue
            values[name] = _int(raw, 0, 366, "일")
            if values[name] is None:
                parsed.error(number, columns[name], _("0~366 사이의 숫자여야 합니다."))
        days = values.get("school_days")
        absent = values.get("absent_unexcused")
        if days is not None and absent is not None and absent > days:
            parsed.error(
                number, columns["absent_unexcused"], _("미인정 결석이 수업일수보다 많습니다.")
            )
        return values
    values["assessed_on"] = _date(cell("assessed_on"))
    if values["assessed_on"] is None:
        parsed.error(
            number, columns["assessed_on"], _("날짜 형식이 올바르지 않습니다 (예: 2026-03-31).")
        )
    elif values["assessed_on"] > today:
        parsed.error(number, columns["assessed_on"], _("날짜가 오늘보다 뒤입니다."))
    if kind == IndicatorKind.BASIC_LEARNING:
        values["subject"] = cell_text(cell("subject"))[:40]
        if not values["subject"]:
            parsed.error(number, columns["subject"], _("과목이 비어 있습니다."))
        values["result"] = ACHIEVEMENT.get(_key(cell("result")))
        if values["result"] is None:
            parsed.error(number, columns["result"], _("결과는 도달 또는 미도달로 적어 주세요."))
    else:
        values["level"] = LEVELS.get(_key(cell("level")))
        if values["level"] is None:
            parsed.error(
                number,
                columns["level"],
                _("결과는 정상, 관심군, 우선관리군, 자살위험 중 하나로 적어 주세요."),
            )
    return values


def _match(parsed: ParsedIndicators, number: int, cell, by_neis: dict, by_person: dict):
    """The student of the row: the same NEIS id, else the same name and birth date."""
    columns = parsed.columns
    neis_id = cell_text(cell("neis_id"))
    if neis_id and neis_id in by_neis:
        return by_neis[neis_id]
    name = cell_text(cell("name"))
    born = _date(cell("birth_date"))
    people = by_person.get((name, born), []) if name and born else []
    if len(people) == 1:
        return people[0]
    column = columns.get("name") or columns.get("neis_id", "")
    if len(people) > 1:
        parsed.error(
            number,
            column,
            _("이름과 생년월일이 같은 학생이 명부에 여럿 있습니다. NEIS 식별번호를 넣어 주세요."),
        )
    else:
        parsed.error(
            number,
            column,
            _("명부에서 학생을 찾을 수 없습니다. 학생 명부를 먼저 가져와 주세요."),
        )
    return None


def plan_counts(parsed: ParsedIndicators) -> dict[str, int]:
    """How many rows a real import would create, update or leave as they are."""
    model = MODELS[parsed.kind]
    keys = KEYS[parsed.kind]
    changing = [name for name in VALUES[parsed.kind] if name not in keys]
    width = len(keys)
    stored = {
        tuple(row[:width]): tuple(row[width:])
        for row in model.objects.filter(
            student_id__in={r.student_id for r in parsed.rows}
        ).values_list(*keys, *changing)
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for r in parsed.rows:
        key = (r.student_id, *(r.values[k] for k in keys[1:]))
        if key not in stored:
            counts["created"] += 1
        elif stored[key] != tuple(r.values[k] for k in changing):
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts


def write_indicators(parsed: ParsedIndicators, *, school: Organization, job: Job, by: User):
    """Store the rows in one statement; history rows for those created or changed. The counts."""
    kind = parsed.kind
    model = MODELS[kind]
    names = VALUES[kind]
    keys = KEYS[kind]
    table = model._meta.db_table
    quote = connection.ops.quote_name
    columns = ["id", "student_id", "school_id", "job_id", "file_name", *names]
    sql_types = ["uuid", "uuid", "uuid", "uuid", "text"] + [
        SQL_TYPES.get(name, "integer" if name in COUNTS else "text") for name in names
    ]
    arrays = [
        [str(uuid.uuid4()) for _row in parsed.rows],
        [str(r.student_id) for r in parsed.rows],
        [str(school.pk)] * len(parsed.rows),
        [str(job.pk)] * len(parsed.rows),
        [job.file_name] * len(parsed.rows),
        *[[r.values[name] for r in parsed.rows] for name in names],
    ]
    changing = [name for name in names if name not in keys]
    update = ", ".join(
        [f"{quote(n)} = EXCLUDED.{quote(n)}" for n in (*changing, "job_id", "file_name")]
        + ["updated_at = now()"]
    )
    differs = (
        " OR ".join(f"t.{quote(n)} IS DISTINCT FROM EXCLUDED.{quote(n)}" for n in changing)
        or "FALSE"
    )
    sql = (
        f"INSERT INTO {quote(table)} AS t ({', '.join(map(quote, columns))}, created_at, "
        f"updated_at) SELECT *, now(), now() FROM unnest("
        + ", ".join(f"%s::{t}[]" for t in sql_types)
        + f") ON CONFLICT ({', '.join(map(quote, keys))}) DO UPDATE SET {update} "
        f"WHERE {differs} RETURNING t.id, (xmax = 0)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        returned = cursor.fetchall()
    created = [pk for pk, inserted in returned if inserted]
    updated = [pk for pk, inserted in returned if not inserted]
    insert_history(model, created, kind="+", by=by, reason=CHANGE_REASON)
    insert_history(model, updated, kind="~", by=by, reason=CHANGE_REASON)
    return {
        "created": len(created),
        "updated": len(updated),
        "unchanged": len(parsed.rows) - len(returned),
    }
