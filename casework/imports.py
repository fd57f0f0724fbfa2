"""Roster imports from NEIS-style exports (CSV in UTF-8 or CP949, or XLSX).

Parsing and validation produce row-level errors `{row, field, message}` (row numbers as the
spreadsheet shows them: the header is row 1). Applying is all-or-nothing, matches existing
students so a re-import updates instead of duplicating, and writes history in bulk.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from partners.models import Organization, User

from .models import Guardian, Student

# Column header → field; the first name listed is the one our template uses.
COLUMNS = {
    "grade": ["학년"],
    "class_no": ["반"],
    "number": ["번호", "출석번호"],
    "name": ["성명", "이름", "학생명"],
    "birth_date": ["생년월일"],
    "sex": ["성별"],
    "neis_id": ["NEIS 식별번호", "학생개인번호", "학번", "NEIS식별번호"],
    "guardian_name": ["보호자명", "보호자 성명", "보호자"],
    "guardian_relation": ["보호자관계", "보호자 관계", "관계"],
    "guardian_phone": ["보호자연락처", "보호자 연락처", "연락처"],
    "home_borough": ["거주 자치구", "거주자치구", "자치구"],
}
REQUIRED = ("grade", "class_no", "number", "name", "birth_date", "sex")
SEX = {
    "남": "male",
    "남자": "male",
    "m": "male",
    "male": "male",
    "여": "female",
    "여자": "female",
    "f": "female",
    "female": "female",
}
# PIPA: Ieum never stores 주민등록번호. A file carrying them is refused whole.
RRN_HEADERS = ("주민등록번호", "주민번호")
RRN_VALUE = re.compile(r"^\d{6}-?[1-8]\d{6}$")
UPDATABLE = ("grade", "class_no", "number", "sex", "home_borough", "neis_id")
CHANGE_REASON = "명부 가져오기"


@dataclass
class Parsed:
    rows: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "field": column, "message": str(message)})


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(
        _("파일의 글자 인코딩을 읽을 수 없습니다. UTF-8 또는 CP949(엑셀 기본)로 저장해 주세요.")
    )


def read_table(data: bytes, file_name: str) -> list[list]:
    """The file's cells, row by row, header first."""
    if file_name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:
            raise ValueError(_("엑셀 파일을 열 수 없습니다.")) from exc
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(_decode(data))))


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%d", "%Y.%m.%d", "%Y%m%d", "%Y/%m/%d", "%Y. %m. %d", "%Y.%m.%d."):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _int(value, low, high) -> int | None:
    try:
        number = int(float(str(value).strip()))
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def parse(data: bytes, file_name: str) -> Parsed:
    parsed = Parsed()
    try:
        table = read_table(data, file_name)
    except ValueError as exc:
        parsed.error(1, "", str(exc))
        return parsed
    table = [row for row in table if any(str(c or "").strip() for c in row)]
    if not table:
        parsed.error(1, "", _("파일에 내용이 없습니다."))
        return parsed
    header = [str(c or "").strip() for c in table[0]]
    if any(h.replace(" ", "") in RRN_HEADERS for h in header):
        parsed.error(
            1,
            "주민등록번호",
            _("주민등록번호는 이음에 저장할 수 없습니다. 해당 열을 지운 뒤 다시 올려 주세요."),
        )
        return parsed
    index, names = {}, {}
    for key, aliases in COLUMNS.items():
        for position, title in enumerate(header):
            if title in aliases or title.replace(" ", "") in [a.replace(" ", "") for a in aliases]:
                index[key], names[key] = position, title
                break
    missing = [COLUMNS[key][0] for key in REQUIRED if key not in index]
    if missing:
        parsed.error(1, ", ".join(missing), _("필수 열이 없습니다: %s") % ", ".join(missing))
        return parsed
    boroughs = {o.name: o for o in Organization.objects.boroughs()}
    boroughs.update({o.region_code: o for o in boroughs.values()})
    seen: dict[tuple, int] = {}
    for offset, cells in enumerate(table[1:], start=2):
        values = {key: cells[pos] if pos < len(cells) else None for key, pos in index.items()}
        cell = values.get
        if any(RRN_VALUE.match(str(c or "").strip()) for c in cells):
            parsed.errors.clear()
            parsed.error(
                offset,
                "",
                _(
                    "주민등록번호로 보이는 값이 있습니다. 이음에는 저장할 수 없으니 지운 뒤 다시 올려 주세요."
                ),
            )
            parsed.rows.clear()
            return parsed
        row = {"row": offset}
        name = str(cell("name") or "").strip()
        if not name:
            parsed.error(offset, names["name"], _("이름이 비어 있습니다."))
        row["name"] = name
        row["grade"] = _int(cell("grade"), 1, 12)
        if row["grade"] is None:
            parsed.error(offset, names["grade"], _("학년은 1~12 사이의 숫자여야 합니다."))
        row["class_no"] = _int(cell("class_no"), 1, 99)
        if row["class_no"] is None:
            parsed.error(offset, names["class_no"], _("반은 1~99 사이의 숫자여야 합니다."))
        row["number"] = _int(cell("number"), 1, 99)
        if row["number"] is None:
            parsed.error(offset, names["number"], _("번호는 1~99 사이의 숫자여야 합니다."))
        row["birth_date"] = _date(cell("birth_date"))
        if row["birth_date"] is None:
            parsed.error(
                offset,
                names["birth_date"],
                _("생년월일 형식이 올바르지 않습니다 (예: 2016-03-05)."),
            )
        row["sex"] = SEX.get(str(cell("sex") or "").strip().lower())
        if row["sex"] is None:
            parsed.error(offset, names["sex"], _("성별은 남 또는 여로 적어 주세요."))
        row["neis_id"] = str(cell("neis_id") or "").strip()
        borough = str(cell("home_borough") or "").strip()
        row["home_borough"] = boroughs.get(borough) if borough else None
        if borough and row["home_borough"] is None:
            parsed.error(offset, names["home_borough"], _("알 수 없는 자치구입니다: %s") % borough)
        row["guardian"] = {
            "name": str(cell("guardian_name") or "").strip(),
            "relation": str(cell("guardian_relation") or "").strip(),
            "phone": str(cell("guardian_phone") or "").strip(),
        }
        key = ("neis", row["neis_id"]) if row["neis_id"] else ("person", name, row["birth_date"])
        if key in seen:
            parsed.error(
                offset,
                names["name"],
                _("같은 파일에 같은 학생이 두 번 있습니다 (%d행과 같음).") % seen[key],
            )
        else:
            seen[key] = offset
        parsed.rows.append(row)
    return parsed


@dataclass
class Applied:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def apply(rows: list[dict], *, school: Organization, by: User, progress=None) -> Applied:
    """Write validated rows for `school` (callers wrap this in one transaction)."""
    existing = list(Student.objects.filter(school=school))
    by_neis = {s.neis_id: s for s in existing if s.neis_id}
    by_person = {(s.name, s.birth_date): s for s in existing}
    result = Applied()
    new, changed, matched = [], [], []
    for position, row in enumerate(rows, start=1):
        student = (by_neis.get(row["neis_id"]) if row["neis_id"] else None) or by_person.get(
            (row["name"], row["birth_date"])
        )
        if student is None:
            new.append(
                Student(
                    school=school,
                    name=row["name"],
                    birth_date=row["birth_date"],
                    **{f: row[f] for f in UPDATABLE},
                )
            )
        else:
            differs = False
            for name in UPDATABLE:
                value = row[name]
                if name == "neis_id" and not value:
                    continue  # a partial export without ids does not erase them
                if getattr(student, name) != value:
                    setattr(student, name, value)
                    differs = True
            (changed if differs else matched).append(student)
        if progress and position % 200 == 0:
            progress(position)
    created = bulk_create_with_history(
        new, Student, batch_size=500, default_user=by, default_change_reason=CHANGE_REASON
    )
    if changed:
        bulk_update_with_history(
            changed,
            Student,
            list(UPDATABLE),
            batch_size=500,
            default_user=by,
            default_change_reason=CHANGE_REASON,
        )
    result.created, result.updated, result.unchanged = len(new), len(changed), len(matched)
    _apply_guardians(rows, [*created, *changed, *matched], by)
    return result


def _apply_guardians(rows, students, by) -> None:
    by_key = {(s.name, s.birth_date): s for s in students}
    known = {
        (g.student_id, g.name, g.relation): g
        for g in Guardian.objects.filter(student__in=[s.pk for s in students])
    }
    new, changed = [], []
    for row in rows:
        guardian = row["guardian"]
        student = by_key.get((row["name"], row["birth_date"]))
        if student is None or not guardian["name"]:
            continue
        current = known.get((student.pk, guardian["name"], guardian["relation"]))
        if current is None:
            new.append(Guardian(student=student, **guardian))
        elif guardian["phone"] and current.phone != guardian["phone"]:
            current.phone = guardian["phone"]
            changed.append(current)
    bulk_create_with_history(new, Guardian, default_user=by, default_change_reason=CHANGE_REASON)
    if changed:
        bulk_update_with_history(
            changed, Guardian, ["phone"], default_user=by, default_change_reason=CHANGE_REASON
        )
