"""Roster imports from NEIS-style exports (CSV in UTF-8 or CP949, or XLSX).

Three steps, so that a dry run and a real run judge a file the same way:

- `parse` reads the file and validates every row, producing row errors `{row, field, message}`
  with row numbers as the spreadsheet shows them (the header is row 1, the first student row 2)
  and the column header as written in the file;
- `plan_import` matches the rows against the school's roster (NEIS id first, else name and birth
  date) and works out what would be created or changed, without writing;
- `apply_import` does that in one transaction, all or nothing, writing history in bulk.
"""

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from partners.models import Organization, User

from .models import Guardian, Student

CHANGE_REASON = "명부 가져오기"
# The largest Korean schools have a few thousand pupils; a bigger file is a mistake (or a whole
# district's export) and would hold a worker for long.
MAX_ROWS = 20_000
# A broken export can produce an error per cell; the first ones are enough to fix the file.
MAX_ERRORS = 1_000
PROGRESS_EVERY = 200
PREVIEW_ROWS = 20
BATCH_SIZE = 500
# Title lines ("2026학년도 학생 명부") often sit above the header in NEIS exports.
HEADER_SCAN_ROWS = 10

# Column header → field. Headers are compared without spaces or `*` and case-insensitively.
# A bare "연락처" is not taken: it may be the student's own number, not the guardian's.
COLUMNS = {
    "grade": ["학년"],
    "class_no": ["반", "학급"],
    "number": ["번호", "출석번호"],
    "name": ["성명", "이름", "학생명", "학생이름", "학생성명"],
    "birth_date": ["생년월일", "생일"],
    "sex": ["성별"],
    "neis_id": ["NEIS 식별번호", "NEIS 학생 식별번호", "학생개인번호", "학생 식별번호", "학번"],
    "guardian_name": ["보호자명", "보호자 성명", "보호자 이름", "보호자"],
    "guardian_relation": ["보호자관계", "보호자와의 관계", "관계"],
    "guardian_phone": ["보호자연락처", "보호자 전화번호", "보호자 휴대전화", "보호자 휴대폰"],
    "home_borough": ["거주 자치구", "거주지 자치구", "자치구", "거주 자치구 코드"],
}
REQUIRED = ("grade", "class_no", "number", "name", "birth_date", "sex")
SEX = {
    "남": "male",
    "남자": "male",
    "남성": "male",
    "m": "male",
    "male": "male",
    "여": "female",
    "여자": "female",
    "여성": "female",
    "f": "female",
    "female": "female",
}
# PIPA Art. 24-2: 주민등록번호 may be processed only where a law requires it, and Ieum has no
# such basis, so a file carrying them (or 외국인등록번호, Art. 24) is refused whole, never
# stored, never echoed back in an error.
RRN_HEADERS = ("주민등록번호", "주민번호", "외국인등록번호")
RRN_VALUE = re.compile(r"^\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])-?[1-8]\d{6}$")
DATE_FORMATS = ("%Y-%m-%d", "%Y.%m.%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d.", "%Y년%m월%d일")
PHONE = re.compile(r"^[0-9+()\- ]{7,20}$")
# The fields a re-import may change; name and birth date identify the student and stay.
UPDATABLE = ("grade", "class_no", "number", "sex", "neis_id", "home_borough")
MAX_LENGTHS = {
    "name": 100,
    "neis_id": 40,
    "guardian_name": 100,
    "guardian_relation": 40,
    "guardian_phone": 40,
}

Progress = Callable[[int, int], None]


class RosterFileError(ValueError):
    """The file as a whole cannot be read."""


@dataclass
class RosterRow:
    row: int
    name: str
    birth_date: date | None
    sex: str | None
    grade: int | None
    class_no: int | None
    number: int | None
    neis_id: str = ""
    home_borough: Organization | None = None
    guardian_name: str = ""
    guardian_relation: str = ""
    guardian_phone: str = ""


@dataclass
class Parsed:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    total: int = 0  # data rows in the file, blank lines not counted
    columns: dict[str, str] = field(default_factory=dict)  # field → header as in the file
    today: date = field(default_factory=timezone.localdate)

    def error(self, row: int, column: str, message) -> None:
        self.errors.append({"row": row, "field": column, "message": str(message)})


@dataclass
class Plan:
    """What applying the rows would do to the school's roster."""

    actions: dict[int, str] = field(default_factory=dict)  # row → create / update / unchanged
    new_students: list[Student] = field(default_factory=list)
    changed_students: list[Student] = field(default_factory=list)
    changed_fields: set[str] = field(default_factory=set)
    new_guardians: list[Guardian] = field(default_factory=list)
    changed_guardians: list[Guardian] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        values = list(self.actions.values())
        return {
            "created": values.count("create"),
            "updated": values.count("update"),
            "unchanged": values.count("unchanged"),
        }


# --- Reading -------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    # Excel on Korean Windows saves CSV as CP949; everything else writes UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterFileError(
        _("파일의 글자 인코딩을 읽을 수 없습니다. UTF-8 또는 CP949(엑셀 기본)로 저장해 주세요.")
    )


def _too_many_rows() -> RosterFileError:
    return RosterFileError(
        _("한 번에 가져올 수 있는 학생은 최대 %(max)s명입니다. 파일을 나누어 올려 주세요.")
        % {"max": f"{MAX_ROWS:,}"}
    )


def read_table(data: bytes, file_name: str) -> list[tuple[int, list]]:
    """The file's non-blank rows as (spreadsheet row number, cells), header included."""
    limit = MAX_ROWS + HEADER_SCAN_ROWS
    table = []
    for number, cells in enumerate(_rows(data, file_name), start=1):
        if any(_text(c) for c in cells):
            table.append((number, list(cells)))
            if len(table) > limit:
                raise _too_many_rows()
    return table


def _rows(data: bytes, file_name: str):
    if not file_name.lower().endswith(".xlsx"):
        try:
            yield from csv.reader(io.StringIO(_decode(data), newline=""))
        except csv.Error as exc:
            raise RosterFileError(_("CSV 파일을 읽을 수 없습니다.")) from exc
        return
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise RosterFileError(_("엑셀 파일을 열 수 없습니다.")) from exc
    try:
        if not book.worksheets:
            raise RosterFileError(_("엑셀 파일을 열 수 없습니다."))
        sheet = book.worksheets[0]
        # Some writers record a wrong sheet size; reading from row 1 keeps row numbers true.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(min_row=1, values_only=True)
    finally:
        book.close()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _header_key(title) -> str:
    return re.sub(r"[\s*\ufeff]", "", _text(title)).lower()


ALIASES = {_header_key(alias): key for key, aliases in COLUMNS.items() for alias in aliases}


def _columns(header: list) -> dict[str, int]:
    found: dict[str, int] = {}
    for position, title in enumerate(header):
        key = ALIASES.get(_header_key(title))
        if key and key not in found:
            found[key] = position
    return found


# --- Values --------------------------------------------------------------------------------


def _int(value, low: int, high: int, suffix: str) -> int | None:
    text = _text(value).removesuffix(suffix).strip()
    if not text.isdigit():
        return None
    number = int(text)
    return number if low <= number <= high else None


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 100_000:
        # A date cell Excel kept as its serial number (a "general" formatted column).
        from openpyxl.utils.datetime import from_excel

        try:
            return from_excel(value).date()
        except (OverflowError, ValueError):
            return None
    text = re.sub(r"\s+", "", _text(value))
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)  # the common case, without strptime's cost
        except ValueError:
            pass
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _phone(value) -> str:
    # Excel drops the leading 0 of a phone number typed into a number cell; every Korean
    # number starts with one.
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _text(value)
        return text if text.startswith("0") else "0" + text
    return _text(value)


class _Boroughs:
    """Resolves a borough written as its 5-digit 행정표준코드 or its name (금천구, 서울특별시
    금천구). Names such as 중구 or 동구 recur across cities, so a bare name is read within the
    school's own city or province."""

    def __init__(self, school: Organization | None):
        self.by_code: dict[str, Organization] = {}
        self.by_name: dict[str, list[Organization]] = defaultdict(list)
        for borough in Organization.objects.boroughs():
            if borough.region_code:
                self.by_code[borough.region_code] = borough
            self.by_name[borough.name.split()[-1]].append(borough)
        self.school = school
        self._home: set[str] | None = None

    def home(self) -> set[str]:
        if self._home is None:
            school = self.school
            if school is None:
                self._home = set()
            elif school.region_code:
                self._home = {school.region_code[:2]}
            elif school.parent_id is None:
                self._home = set()
            else:
                covered = Organization.objects.filter(covered_by=school.parent_id)
                self._home = {code[:2] for code in covered.values_list("region_code", flat=True)}
        return self._home

    def resolve(self, text: str) -> tuple[Organization | None, str | None]:
        if text.isdigit():
            if text in self.by_code:
                return self.by_code[text], None
            return None, _("알 수 없는 자치구입니다: %s") % text
        candidates = self.by_name.get(text.split()[-1], [])
        if len(candidates) > 1 and len(text.split()) > 1:  # "광주광역시 동구" names the city
            exact = [b for b in candidates if b.name.replace(" ", "") == text.replace(" ", "")]
            if len(exact) == 1:
                return exact[0], None
        if len(candidates) > 1:
            candidates = [b for b in candidates if b.region_code[:2] in self.home()] or candidates
        if len(candidates) == 1:
            return candidates[0], None
        if candidates:
            return None, _(
                "같은 이름의 자치구가 여러 곳입니다. 5자리 행정표준코드로 적어 주세요: %s"
            ) % text
        return None, _("알 수 없는 자치구입니다: %s") % text


# --- Parsing -------------------------------------------------------------------------------


def parse(
    data: bytes,
    file_name: str,
    *,
    school: Organization | None = None,
    progress: Progress | None = None,
) -> Parsed:
    """Read and validate a roster file. `progress(processed, total)` is called once with 0 when
    the number of rows is known, then every `PROGRESS_EVERY` rows."""
    parsed = Parsed()
    try:
        table = read_table(data, file_name)
    except RosterFileError as exc:
        parsed.error(1, "", str(exc))
        return parsed
    if not table:
        parsed.error(1, "", _("파일에 내용이 없습니다."))
        return parsed

    # The header is the first row that names the most known columns (title lines come first).
    header_at = max(
        range(min(HEADER_SCAN_ROWS, len(table))), key=lambda i: (len(_columns(table[i][1])), -i)
    )
    header_row, header = table[header_at]
    titles = [_text(c) for c in header]
    for title in titles:
        if any(word in _header_key(title) for word in RRN_HEADERS):
            parsed.error(
                header_row,
                title,
                _("주민등록번호는 이음에 저장할 수 없습니다. 해당 열을 지운 뒤 다시 올려 주세요."),
            )
            return parsed
    index = _columns(header)
    parsed.columns = {key: titles[position] for key, position in index.items()}
    missing = [COLUMNS[key][0] for key in REQUIRED if key not in index]
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
        parsed.error(header_row, "", str(_too_many_rows()))
        return parsed
    parsed.total = len(body)
    if progress:
        progress(0, parsed.total)

    boroughs = _Boroughs(school)
    seen_neis: dict[str, int] = {}
    seen_person: dict[tuple, list[tuple[int, str]]] = defaultdict(list)
    for done, (number, cells) in enumerate(body, start=1):
        for position, value in enumerate(cells):
            if RRN_VALUE.match(_text(value)):
                parsed.errors.clear()
                parsed.rows.clear()
                parsed.error(
                    number,
                    titles[position] if position < len(titles) else "",
                    _(
                        "주민등록번호로 보이는 값이 있습니다. 이음에는 저장할 수 없으니 지운 뒤 다시 올려 주세요."
                    ),
                )
                return parsed
        row = _parse_row(parsed, number, cells, index, boroughs)
        _check_duplicate(parsed, row, seen_neis, seen_person)
        parsed.rows.append(row)
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, parsed.total)
    return parsed


def _parse_row(parsed: Parsed, number: int, cells: list, index: dict, boroughs) -> RosterRow:
    def cell(key):
        position = index.get(key)
        return cells[position] if position is not None and position < len(cells) else None

    def error(key, message):
        parsed.error(number, parsed.columns[key], message)

    name = _text(cell("name"))
    if not name:
        error("name", _("이름이 비어 있습니다."))
    grade = _int(cell("grade"), 1, 12, "학년")
    if grade is None:
        error("grade", _("학년은 1~12 사이의 숫자여야 합니다."))
    class_no = _int(cell("class_no"), 1, 99, "반")
    if class_no is None:
        error("class_no", _("반은 1~99 사이의 숫자여야 합니다."))
    number_in_class = _int(cell("number"), 1, 99, "번")
    if number_in_class is None:
        error("number", _("번호는 1~99 사이의 숫자여야 합니다."))
    birth_date = _date(cell("birth_date"))
    if birth_date is None:
        error("birth_date", _("생년월일 형식이 올바르지 않습니다 (예: 2016-03-05)."))
    elif birth_date > parsed.today:
        error("birth_date", _("생년월일이 오늘보다 뒤입니다."))
    sex = SEX.get(_text(cell("sex")).lower())
    if sex is None:
        error("sex", _("성별은 남 또는 여로 적어 주세요."))

    row = RosterRow(
        row=number,
        name=name,
        birth_date=birth_date,
        sex=sex,
        grade=grade,
        class_no=class_no,
        number=number_in_class,
        neis_id=_text(cell("neis_id")),
        guardian_name=_text(cell("guardian_name")),
        guardian_relation=_text(cell("guardian_relation")),
        guardian_phone=_phone(cell("guardian_phone")),
    )
    for key, limit in MAX_LENGTHS.items():
        if len(getattr(row, key)) > limit:
            error(key, _("%(limit)d자를 넘을 수 없습니다.") % {"limit": limit})
    if row.guardian_name and not row.guardian_relation:
        column = parsed.columns.get("guardian_relation", COLUMNS["guardian_relation"][0])
        parsed.error(number, column, _("보호자명이 있으면 보호자관계도 적어 주세요."))
    if not row.guardian_name and (row.guardian_relation or row.guardian_phone):
        column = parsed.columns.get("guardian_name", COLUMNS["guardian_name"][0])
        parsed.error(number, column, _("보호자 정보가 있으면 보호자명도 적어 주세요."))
    if row.guardian_phone and not PHONE.match(row.guardian_phone):
        error("guardian_phone", _("보호자연락처 형식이 올바르지 않습니다 (예: 010-1234-5678)."))
    borough = _text(cell("home_borough"))
    if borough:
        row.home_borough, message = boroughs.resolve(borough)
        if message:
            error("home_borough", message)
    return row


def _check_duplicate(parsed: Parsed, row: RosterRow, seen_neis: dict, seen_person: dict) -> None:
    """The same NEIS id twice, or the same name and birth date where either row lacks a NEIS id
    (two pupils may share a name and a birthday, but then NEIS tells them apart)."""
    first, column = None, parsed.columns["name"]
    if row.neis_id:
        if row.neis_id in seen_neis:
            first, column = seen_neis[row.neis_id], parsed.columns["neis_id"]
        else:
            seen_neis[row.neis_id] = row.row
    if first is None and row.name and row.birth_date:
        person = seen_person[(row.name, row.birth_date)]
        first = next((r for r, neis in person if not (neis and row.neis_id)), None)
        person.append((row.row, row.neis_id))
    if first is not None:
        parsed.error(
            row.row, column, _("같은 파일에 같은 학생이 두 번 있습니다 (%d행과 같음).") % first
        )


# --- Matching and writing ------------------------------------------------------------------


def plan_import(parsed: Parsed, *, school: Organization) -> Plan:
    """Match valid rows against the school's roster: a student with the same NEIS id, else the
    same name and birth date (unless NEIS says they are someone else). Students missing from the
    file are left alone: an export may cover one grade or one class."""
    plan = Plan()
    existing = list(Student.objects.filter(school=school))
    by_neis = {s.neis_id: s for s in existing if s.neis_id}
    by_person: dict[tuple, list[Student]] = defaultdict(list)
    for student in existing:
        by_person[(student.name, student.birth_date)].append(student)

    matched: dict[int, Student] = {}
    claimed: dict = {}  # student pk → the row that matched it
    for row in parsed.rows:
        if row.neis_id in by_neis:
            matched[row.row] = by_neis[row.neis_id]
            claimed[matched[row.row].pk] = row.row
    for row in parsed.rows:
        if row.row in matched:
            continue
        candidates = [
            s
            for s in by_person.get((row.name, row.birth_date), [])
            if not (row.neis_id and s.neis_id and s.neis_id != row.neis_id)
        ]
        if len(candidates) > 1:
            plan.errors.append(
                {
                    "row": row.row,
                    "field": parsed.columns["name"],
                    "message": str(
                        _(
                            "이름과 생년월일이 같은 학생이 명부에 여럿 있습니다. NEIS 식별번호를 넣어 주세요."
                        )
                    ),
                }
            )
        elif candidates and candidates[0].pk in claimed:
            plan.errors.append(
                {
                    "row": row.row,
                    "field": parsed.columns["name"],
                    "message": str(
                        _("%d행과 같은 학생으로 확인됩니다. NEIS 식별번호를 확인해 주세요.")
                        % claimed[candidates[0].pk]
                    ),
                }
            )
        elif candidates:
            matched[row.row] = candidates[0]
            claimed[candidates[0].pk] = row.row

    guardians = {
        (g.student_id, g.name, g.relation): g
        for g in Guardian.objects.filter(student__school=school)
    }
    for row in parsed.rows:
        student = matched.get(row.row)
        if student is None:
            student = Student(
                school=school,
                name=row.name,
                birth_date=row.birth_date,
                grade=row.grade,
                class_no=row.class_no,
                number=row.number,
                sex=row.sex,
                neis_id=row.neis_id,
                home_borough=row.home_borough,
            )
            plan.new_students.append(student)
            plan.actions[row.row] = "create"
        else:
            changed = _update_student(student, row)
            if changed:
                plan.changed_students.append(student)
                plan.changed_fields.update(changed)
            plan.actions[row.row] = "update" if changed else "unchanged"
        guardian_changed = row.guardian_name and _plan_guardian(plan, guardians, student, row)
        if guardian_changed and plan.actions[row.row] == "unchanged":
            plan.actions[row.row] = "update"
    return plan


def _update_student(student: Student, row: RosterRow) -> list[str]:
    changed = []
    for name in ("grade", "class_no", "number", "sex"):
        if getattr(student, name) != getattr(row, name):
            setattr(student, name, getattr(row, name))
            changed.append(name)
    # A blank NEIS id or borough in the file keeps what is known: exports often leave them out.
    if row.neis_id and student.neis_id != row.neis_id:
        student.neis_id = row.neis_id
        changed.append("neis_id")
    if row.home_borough and student.home_borough_id != row.home_borough.pk:
        student.home_borough = row.home_borough
        changed.append("home_borough")
    return changed


def _plan_guardian(plan: Plan, guardians: dict, student: Student, row: RosterRow) -> bool:
    """A guardian new to the student (by name and relation) is added; a known one gets the new
    phone number. True if anything changes."""
    current = guardians.get((student.pk, row.guardian_name, row.guardian_relation))
    if current is None:
        plan.new_guardians.append(
            Guardian(
                student=student,
                name=row.guardian_name,
                relation=row.guardian_relation,
                phone=row.guardian_phone,
            )
        )
        return True
    if row.guardian_phone and current.phone != row.guardian_phone:
        current.phone = row.guardian_phone
        plan.changed_guardians.append(current)
        return True
    return False


def apply_import(parsed: Parsed, *, school: Organization, by: User) -> Plan:
    """Plan and write in one transaction; if the plan has errors nothing is written."""
    with transaction.atomic():
        # Two imports for one school at once would each see the other's students as missing
        # and create them twice; the school's row serialises them.
        list(Organization.objects.select_for_update().filter(pk=school.pk).values_list("pk"))
        plan = plan_import(parsed, school=school)
        if not plan.errors:
            write_plan(plan, by=by)
    return plan


def write_plan(plan: Plan, *, by: User) -> None:
    # Tasks have no request for simple-history's middleware, so the actor and the reason are
    # given to the bulk helpers; a queryset update() would leave no history at all.
    history = {"default_user": by, "default_change_reason": CHANGE_REASON}

    def create(model, objects):
        if connection.vendor == "postgresql":  # COPY, history rows included
            from .scale import copy_with_history

            copy_with_history(model, objects, by=by, reason=CHANGE_REASON)
        else:
            bulk_create_with_history(objects, model, batch_size=BATCH_SIZE, **history)

    if plan.new_students:
        create(Student, plan.new_students)
    if plan.changed_students:
        now = timezone.now()
        for student in plan.changed_students:
            student.updated_at = now  # bulk_update skips auto_now
        bulk_update_with_history(
            plan.changed_students,
            Student,
            sorted(plan.changed_fields | {"updated_at"}),
            batch_size=BATCH_SIZE,
            **history,
        )
    if plan.new_guardians:
        create(Guardian, plan.new_guardians)
    if plan.changed_guardians:
        bulk_update_with_history(
            plan.changed_guardians, Guardian, ["phone"], batch_size=BATCH_SIZE, **history
        )


# --- Reporting -----------------------------------------------------------------------------


def preview(parsed: Parsed, plan: Plan, limit: int = PREVIEW_ROWS) -> list[dict]:
    """The first rows as read, for the user to check the columns were understood. Guardian
    phone numbers are left out: the preview stays on the job after the file is gone."""
    return [
        {
            "row": row.row,
            "action": plan.actions.get(row.row, ""),
            "name": row.name,
            "grade": row.grade,
            "class_no": row.class_no,
            "number": row.number,
            "birth_date": row.birth_date.isoformat() if row.birth_date else None,
            "sex": row.sex,
            "neis_id": row.neis_id,
            "home_borough": row.home_borough.name if row.home_borough else "",
            "guardian_name": row.guardian_name,
            "guardian_relation": row.guardian_relation,
        }
        for row in parsed.rows[:limit]
    ]


def capped(errors: list[dict], limit: int = MAX_ERRORS) -> list[dict]:
    if len(errors) <= limit:
        return errors
    rest = errors[limit]
    return [
        *errors[:limit],
        {
            "row": rest["row"],
            "field": "",
            "message": str(
                _("오류가 너무 많아 처음 %(shown)d건만 보여 줍니다 (모두 %(total)d건).")
                % {"shown": limit, "total": len(errors)}
            ),
        },
    ]
