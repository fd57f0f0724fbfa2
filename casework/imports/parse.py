"""Parsing a roster: finding the header and its columns, reading and checking every row, with
row errors `{row, field, message}` numbered as the spreadsheet shows them (the header is row 1,
the first student row 2) and the column header as written in the file."""

import functools
import gc
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.models import Organization

from .boroughs import Boroughs
from .files import HEADER_SCAN_ROWS, MAX_ROWS, RosterFileError, cell_text, read_table, too_many_rows

PROGRESS_EVERY = 200

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
SPACES = re.compile(r"\s+")
HEADER_NOISE = re.compile(r"[\s*\ufeff]")
MAX_LENGTHS = {
    "name": 100,
    "neis_id": 40,
    "guardian_name": 100,
    "guardian_relation": 40,
    "guardian_phone": 40,
}
SHORTEST_LIMIT = min(MAX_LENGTHS.values())
# The order in which `_parse_row` receives a row's cells.
CELL_ORDER = (
    "grade",
    "class_no",
    "number",
    "name",
    "birth_date",
    "sex",
    "neis_id",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
    "home_borough",
)

Progress = Callable[[int, int], None]


@dataclass(slots=True)
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


def without_gc(function):
    """Pause the cyclic garbage collector while `function` runs. An import holds tens of
    thousands of rows at once, none in a reference cycle; a full collection walks them and the
    rest of the process (about 45 ms, a sixth of a 10,000-row import) and frees nothing.
    Reference counting still frees everything as usual."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if not gc.isenabled():  # nested, or paused by the caller
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper


def _cell_problem(cells, limit: int) -> tuple[int, str] | None:
    """The first cell of a row holding a NUL or more than `limit` characters, with what is
    wrong; None for nearly every row, found by one join."""
    joined = "".join([value for value in cells if type(value) is str])
    if len(joined) <= limit and "\x00" not in joined:
        return None
    for position, value in enumerate(cells):
        if type(value) is not str:
            continue
        if "\x00" in value:
            return position, _("허용되지 않는 문자(NUL)가 들어 있습니다. 지운 뒤 다시 올려 주세요.")
        if len(value) > limit:
            return position, _("셀의 글자가 너무 많습니다 (최대 %(max)s자).") % {
                "max": f"{limit:,}"
            }
    return None


def _header_key(title) -> str:
    return HEADER_NOISE.sub("", cell_text(title)).lower()


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
    # isdecimal, not isdigit: "²" is a digit that int() refuses; full-width "３" is decimal and
    # reads as 3. A grade or a class number never needs more than a few digits.
    if type(value) is str and value.isdecimal() and len(value) <= 6:  # nothing to strip
        number = int(value)
        return number if low <= number <= high else None
    text = cell_text(value).removesuffix(suffix).strip()
    if not text.isdecimal() or len(text) > 6:
        return None
    number = int(text)
    return number if low <= number <= high else None


def _date(value) -> date | None:
    if type(value) is str and len(value) == 10 and value[4] == "-" == value[7]:
        try:
            return date.fromisoformat(value)  # the common case, as typed
        except ValueError:
            pass  # perhaps spaces inside: read below like any other text
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
    text = SPACES.sub("", cell_text(value))
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
        text = cell_text(value)
        return text if text.startswith("0") else "0" + text
    return cell_text(value)


# --- Parsing -------------------------------------------------------------------------------


@without_gc
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
        parsed.error(exc.row, "", str(exc))
        return parsed
    if not table:
        parsed.error(1, "", _("파일에 내용이 없습니다."))
        return parsed

    # The header is the first row that names the most known columns (title lines come first).
    header_at = max(
        range(min(HEADER_SCAN_ROWS, len(table))), key=lambda i: (len(_columns(table[i][1])), -i)
    )
    header_row, header = table[header_at]
    titles = [cell_text(c) for c in header]
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
        parsed.error(header_row, "", str(too_many_rows()))
        return parsed
    parsed.total = len(body)
    if progress:
        progress(0, parsed.total)

    boroughs = Boroughs(school)
    pick = _picker(index, len(header))
    seen_neis: dict[str, int] = {}
    # (name, birth date) → its first row, and its first row without a NEIS id
    seen_person: dict[tuple, int] = {}
    seen_person_blank: dict[tuple, int] = {}
    cell_limit = settings.ROSTER_IMPORT_MAX_CELL_CHARS
    for done, (number, cells) in enumerate(body, start=1):
        problem = _cell_problem(cells, cell_limit)
        if problem is not None:
            position, message = problem
            parsed.error(number, titles[position] if position < len(titles) else "", message)
            continue
        position = _rrn_position(cells)
        if position is not None:
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
        row = _parse_row(parsed, number, pick(cells), boroughs)
        _check_duplicate(parsed, row, seen_neis, seen_person, seen_person_blank)
        parsed.rows.append(row)
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, parsed.total)
    return parsed


def _rrn_position(cells: list) -> int | None:
    """The first cell that looks like a 주민등록번호."""
    match = RRN_VALUE.match
    for position, value in enumerate(cells):
        # One has 13 digits at least: a shorter string needs no regex.
        if (type(value) is not str or len(value) >= 13) and match(cell_text(value)):
            return position
    return None


def _picker(index: dict[str, int], width: int) -> Callable[[list], tuple]:
    """A function giving a row's cells in CELL_ORDER, None for a column the file lacks or a
    row cut short."""
    width = max([width, *(position + 1 for position in index.values())])
    get = itemgetter(*(index.get(key, width) for key in CELL_ORDER))
    padding = [None] * (width + 1)

    def pick(cells: list) -> tuple:
        # Always width + 1 slots, the last one None: cells past the header are cut off.
        return get([*cells[:width], *padding[min(len(cells), width) :]])

    return pick


def _parse_row(parsed: Parsed, number: int, values: tuple, boroughs) -> RosterRow:
    """Read and check one row; `values` are its cells in CELL_ORDER."""
    (
        grade,
        class_no,
        number_in_class,
        name,
        birth_date,
        sex,
        neis_id,
        guardian_name,
        guardian_relation,
        guardian_phone,
        borough,
    ) = values
    columns = parsed.columns

    name = cell_text(name)
    if not name:
        parsed.error(number, columns["name"], _("이름이 비어 있습니다."))
    grade = _int(grade, 1, 12, "학년")
    if grade is None:
        parsed.error(number, columns["grade"], _("학년은 1~12 사이의 숫자여야 합니다."))
    class_no = _int(class_no, 1, 99, "반")
    if class_no is None:
        parsed.error(number, columns["class_no"], _("반은 1~99 사이의 숫자여야 합니다."))
    number_in_class = _int(number_in_class, 1, 99, "번")
    if number_in_class is None:
        parsed.error(number, columns["number"], _("번호는 1~99 사이의 숫자여야 합니다."))
    birth_date = _date(birth_date)
    if birth_date is None:
        parsed.error(
            number,
            columns["birth_date"],
            _("생년월일 형식이 올바르지 않습니다 (예: 2016-03-05)."),
        )
    elif birth_date > parsed.today:
        parsed.error(number, columns["birth_date"], _("생년월일이 오늘보다 뒤입니다."))
    sex = SEX.get(cell_text(sex).lower())
    if sex is None:
        parsed.error(number, columns["sex"], _("성별은 남 또는 여로 적어 주세요."))
    neis_id = cell_text(neis_id)
    guardian_name = cell_text(guardian_name)
    guardian_relation = cell_text(guardian_relation)
    guardian_phone = _phone(guardian_phone)

    texts = (name, neis_id, guardian_name, guardian_relation, guardian_phone)
    if max(map(len, texts)) > SHORTEST_LIMIT:  # rare: then check each against its own limit
        texts = dict(zip(MAX_LENGTHS, texts, strict=True))
        for key, limit in MAX_LENGTHS.items():
            if len(texts[key]) > limit:
                parsed.error(
                    number, columns[key], _("%(limit)d자를 넘을 수 없습니다.") % {"limit": limit}
                )
    if guardian_name and not guardian_relation:
        column = columns.get("guardian_relation", COLUMNS["guardian_relation"][0])
        parsed.error(number, column, _("보호자명이 있으면 보호자관계도 적어 주세요."))
    if not guardian_name and (guardian_relation or guardian_phone):
        column = columns.get("guardian_name", COLUMNS["guardian_name"][0])
        parsed.error(number, column, _("보호자 정보가 있으면 보호자명도 적어 주세요."))
    if guardian_phone and not PHONE.match(guardian_phone):
        parsed.error(
            number,
            columns["guardian_phone"],
            _("보호자연락처 형식이 올바르지 않습니다 (예: 010-1234-5678)."),
        )
    home_borough = None
    borough = cell_text(borough)
    if borough:
        home_borough, message = boroughs.resolve(borough)
        if message:
            parsed.error(number, columns["home_borough"], message)
    return RosterRow(
        row=number,
        name=name,
        birth_date=birth_date,
        sex=sex,
        grade=grade,
        class_no=class_no,
        number=number_in_class,
        neis_id=neis_id,
        home_borough=home_borough,
        guardian_name=guardian_name,
        guardian_relation=guardian_relation,
        guardian_phone=guardian_phone,
    )


def _check_duplicate(
    parsed: Parsed, row: RosterRow, seen_neis: dict, seen_person: dict, seen_person_blank: dict
) -> None:
    """The same NEIS id twice, or the same name and birth date where either row lacks a NEIS id
    (two pupils may share a name and a birthday, but then NEIS tells them apart)."""
    first, column = None, "name"
    if row.neis_id:
        if row.neis_id in seen_neis:
            first, column = seen_neis[row.neis_id], "neis_id"
        else:
            seen_neis[row.neis_id] = row.row
    if first is None and row.name and row.birth_date:
        person = (row.name, row.birth_date)
        # A row without a NEIS id repeats any earlier one; a row with one, an earlier row without.
        first = (seen_person_blank if row.neis_id else seen_person).get(person)
        seen_person.setdefault(person, row.row)
        if not row.neis_id:
            seen_person_blank.setdefault(person, row.row)
    if first is not None:
        parsed.error(
            row.row,
            parsed.columns[column],
            _("같은 파일에 같은 학생이 두 번 있습니다 (%d행과 같음).") % first,
        )
