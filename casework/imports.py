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
import functools
import gc
import io
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from partners.models import Organization, User

from .bulk import copy_rows_with_history, update_rows_with_history
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
SPACES = re.compile(r"\s+")
HEADER_NOISE = re.compile(r"[\s*\ufeff]")
# The fields a re-import may change; name and birth date identify the student and stay.
UPDATABLE = ("grade", "class_no", "number", "sex", "neis_id", "home_borough")
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
# What plan_import produces for COPY: new students' and guardians' values in this order.
STUDENT_COLUMNS = (
    "id",
    "school_id",
    "name",
    "birth_date",
    "sex",
    "grade",
    "class_no",
    "number",
    "neis_id",
    "home_borough_id",
)
GUARDIAN_COLUMNS = ("id", "student_id", "name", "relation", "phone")

Progress = Callable[[int, int], None]


class RosterFileError(ValueError):
    """The file as a whole cannot be read."""

    row: int | None = 1  # where the job's error points: the file's first row


class FileTooLarge(RosterFileError):
    """The file would expand past what a worker may read (an XLSX is a zip archive): refused
    before it is parsed, with no row to point at."""

    row = None


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


@dataclass
class Plan:
    """What applying the rows would do to the school's roster."""

    actions: dict[int, str] = field(default_factory=dict)  # row → create / update / unchanged
    new_students: list[tuple] = field(default_factory=list)  # STUDENT_COLUMNS values
    changed_students: dict = field(default_factory=dict)  # pk → {field name: new value}
    changed_fields: set[str] = field(default_factory=set)
    new_guardians: list[tuple] = field(default_factory=list)  # GUARDIAN_COLUMNS values
    changed_guardians: dict = field(default_factory=dict)  # pk → new phone number
    errors: list[dict] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        values = list(self.actions.values())
        return {
            "created": values.count("create"),
            "updated": values.count("update"),
            "unchanged": values.count("unchanged"),
        }


def _without_gc(function):
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
    # Every CSV cell is a string, so a CSV row is blank if its joined text is.
    blank = _blank if file_name.lower().endswith(".xlsx") else _blank_strings
    last_row = settings.ROSTER_IMPORT_MAX_SHEET_ROWS
    for number, cells in enumerate(_rows(data, file_name), start=1):
        if number > last_row:  # blank rows too: a far cell makes the reader yield every row
            raise _sheet_too_large(number, len(cells))
        if not blank(cells):
            table.append((number, cells if type(cells) is list else list(cells)))
            if len(table) > limit:
                raise _too_many_rows()
    return table


def _blank(cells) -> bool:
    return not any(_text(c) for c in cells)


def _blank_strings(cells: list[str]) -> bool:
    return not "".join(cells).strip()


def _rows(data: bytes, file_name: str):
    if not file_name.lower().endswith(".xlsx"):
        try:
            yield from csv.reader(io.StringIO(_decode(data), newline=""))
        except csv.Error as exc:
            raise RosterFileError(_("CSV 파일을 읽을 수 없습니다.")) from exc
        return
    check_xlsx(data)
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
        try:
            yield from sheet.iter_rows(min_row=1, values_only=True)
        except Exception as exc:  # the sheet's XML is broken, or holds a character XML forbids
            raise RosterFileError(
                _(
                    "엑셀 시트를 읽을 수 없습니다. 허용되지 않는 문자(NUL 등)가 있는지 확인해 주세요."
                )
            ) from exc
    finally:
        book.close()


# --- Hostile files --------------------------------------------------------------------------
# An XLSX is a zip archive of XML: 300 KB can expand to gigabytes, or name a cell at row two
# billion, which the reader would walk to row by row. `check_xlsx` reads only the archive's
# directory and scans the sheets' XML for the rows and columns they use, streaming, before
# openpyxl parses anything; the limits are settings (ROSTER_IMPORT_*).

SHEETS = re.compile(r"^xl/worksheets/[^/]+\.xml$")
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z0-9:$]{1,40})\"")
ROW_NUMBER = re.compile(rb"\sr=\"[A-Z]*(\d{1,4000})\"")
WIDE_COLUMN = re.compile(rb"\sr=\"([A-Z]{2,})\d")
ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
SCAN_CHUNK = 1024 * 1024
OVERLAP = 64  # longer than any match, so one cut in two by a chunk boundary is still found
# Below this a member's compression ratio says nothing (a short, repetitive XML part).
RATIO_FLOOR = 1024 * 1024


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(size // 1024, 1):,}KB"
    return f"{size / (1024 * 1024):,.0f}MB"


def _sheet_too_large(rows: int, columns: int) -> FileTooLarge:
    return FileTooLarge(
        _(
            "파일이 너무 큽니다. 시트가 %(rows)s행 × %(columns)s열에 이르는데, 한도는 "
            "%(max_rows)s행, %(max_columns)s열, 셀 %(max_cells)s개입니다. 학생 명단이 있는 "
            "범위만 새 파일에 옮겨 다시 올려 주세요."
        )
        % {
            "rows": f"{rows:,}",
            "columns": f"{columns:,}",
            "max_rows": f"{settings.ROSTER_IMPORT_MAX_SHEET_ROWS:,}",
            "max_columns": f"{settings.ROSTER_IMPORT_MAX_COLUMNS:,}",
            "max_cells": f"{settings.ROSTER_IMPORT_MAX_CELLS:,}",
        }
    )


def check_xlsx(data: bytes) -> None:
    """Raise FileTooLarge if the archive expands past ROSTER_IMPORT_MAX_EXPANDED_BYTES, a large
    member is compressed more than ROSTER_IMPORT_MAX_COMPRESSION_RATIO times, or a sheet uses
    more rows, columns or cells than the limits. The sizes are the archive's own: zipfile never
    reads a member past its recorded size, so a member cannot expand more than it says."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise RosterFileError(_("엑셀 파일을 열 수 없습니다.")) from exc
    with archive:
        members = archive.infolist()
        expanded = sum(member.file_size for member in members)
        limit = settings.ROSTER_IMPORT_MAX_EXPANDED_BYTES
        if expanded > limit:
            raise FileTooLarge(
                _(
                    "파일이 너무 큽니다. 압축을 풀면 %(size)s인데, 한도는 %(limit)s입니다. "
                    "파일을 나누어 올려 주세요."
                )
                % {"size": _megabytes(expanded), "limit": _megabytes(limit)}
            )
        ratio_limit = settings.ROSTER_IMPORT_MAX_COMPRESSION_RATIO
        for member in members:
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > RATIO_FLOOR and ratio > ratio_limit:
                raise FileTooLarge(
                    _(
                        "파일이 너무 큽니다. 압축률이 %(ratio)s배로 비정상적으로 높습니다(한도 "
                        "%(limit)s배). 엑셀에서 새 통합 문서로 저장해 다시 올려 주세요."
                    )
                    % {"ratio": f"{ratio:,.0f}", "limit": f"{ratio_limit:,}"}
                )
        for member in members:
            if SHEETS.match(member.filename):
                try:
                    with archive.open(member) as sheet:
                        _check_sheet(sheet)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise RosterFileError(_("엑셀 파일을 열 수 없습니다.")) from exc


def _check_sheet(stream) -> None:
    """Scan one sheet's XML for its declared range and the rows and columns its cells name."""
    from openpyxl.utils.cell import column_index_from_string, range_boundaries

    rows = columns = tags = 0
    tail = b""
    first = True
    while chunk := stream.read(SCAN_CHUNK):
        text = tail + chunk
        if first:
            first = False
            declared = DIMENSION.search(text)
            if declared:
                try:
                    _left, _top, right, bottom = range_boundaries(declared.group(1).decode())
                except (ValueError, TypeError):
                    right = bottom = None
                rows, columns = max(rows, bottom or 0), max(columns, right or 0)
        numbers = ROW_NUMBER.findall(text)
        if numbers:
            rows = max(rows, max(map(int, set(numbers))))
        for letters in set(WIDE_COLUMN.findall(text)):
            try:
                columns = max(columns, column_index_from_string(letters.decode()))
            except ValueError:
                columns = max(columns, 26**3)
        tags += len(ROW_TAG.findall(chunk))  # rows may leave out their number
        tail = text[-OVERLAP:]
    rows = max(rows, tags)
    if (
        rows > settings.ROSTER_IMPORT_MAX_SHEET_ROWS
        or columns > settings.ROSTER_IMPORT_MAX_COLUMNS
        or rows * columns > settings.ROSTER_IMPORT_MAX_CELLS
    ):
        raise _sheet_too_large(rows, columns)


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


def _text(value) -> str:
    if type(value) is str:  # nearly every cell
        return value.strip()
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
    return HEADER_NOISE.sub("", _text(title)).lower()


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
    text = _text(value).removesuffix(suffix).strip()
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
    text = SPACES.sub("", _text(value))
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
        self._resolved: dict[str, tuple[Organization | None, str | None]] = {}

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
        # A roster names the same few boroughs on every row.
        if text not in self._resolved:
            self._resolved[text] = self._resolve(text)
        return self._resolved[text]

    def _resolve(self, text: str) -> tuple[Organization | None, str | None]:
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


@_without_gc
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
        if (type(value) is not str or len(value) >= 13) and match(_text(value)):
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

    name = _text(name)
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
    sex = SEX.get(_text(sex).lower())
    if sex is None:
        parsed.error(number, columns["sex"], _("성별은 남 또는 여로 적어 주세요."))
    neis_id = _text(neis_id)
    guardian_name = _text(guardian_name)
    guardian_relation = _text(guardian_relation)
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
    borough = _text(borough)
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


# --- Matching and writing ------------------------------------------------------------------

# A school's students as plan_import reads them: pk, name, birth date, NEIS id, then these.
STUDENT_COMPARED = ("grade", "class_no", "number", "sex", "home_borough_id")
PK, NAME, BIRTH_DATE, NEIS = range(4)
BOROUGH = 4 + STUDENT_COMPARED.index("home_borough_id")


def _new_ids(n: int) -> list[str]:
    """n random (version 4) UUIDs as hex, from one urandom call: uuid4() per row costs about
    as much as the rest of the plan."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])
    text = raw.hex()
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]


def _id_source(block: int = 1024):
    while True:
        yield from _new_ids(block)


@_without_gc
def plan_import(parsed: Parsed, *, school: Organization) -> Plan:
    """Match valid rows against the school's roster: a student with the same NEIS id, else the
    same name and birth date (unless NEIS says they are someone else). Students missing from the
    file are left alone: an export may cover one grade or one class."""
    plan = Plan()
    # Tuples, not model instances: a school's roster is read whole on every import.
    existing = list(
        Student.objects.filter(school=school).values_list(
            "pk", "name", "birth_date", "neis_id", *STUDENT_COMPARED
        )
    )
    by_neis = {s[NEIS]: s for s in existing if s[NEIS]}
    by_person: dict[tuple, list[tuple]] = defaultdict(list)
    for student in existing:
        by_person[(student[NAME], student[BIRTH_DATE])].append(student)

    matched: dict[int, tuple] = {}
    claimed: dict = {}  # student pk → the row that matched it
    for row in parsed.rows:
        if row.neis_id in by_neis:
            matched[row.row] = by_neis[row.neis_id]
            claimed[matched[row.row][PK]] = row.row
    for row in parsed.rows:
        if row.row in matched:
            continue
        people = by_person.get((row.name, row.birth_date))
        if not people:
            continue
        candidates = [s for s in people if not (row.neis_id and s[NEIS] and s[NEIS] != row.neis_id)]
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
        elif candidates and candidates[0][PK] in claimed:
            plan.errors.append(
                {
                    "row": row.row,
                    "field": parsed.columns["name"],
                    "message": str(
                        _("%d행과 같은 학생으로 확인됩니다. NEIS 식별번호를 확인해 주세요.")
                        % claimed[candidates[0][PK]]
                    ),
                }
            )
        elif candidates:
            matched[row.row] = candidates[0]
            claimed[candidates[0][PK]] = row.row

    # Only matched students have guardians on record; new ones are added below.
    known = Guardian.objects.filter(student_id__in=[s[PK] for s in matched.values()])
    guardians = {
        (student_id, name, relation): (pk, phone)
        for pk, student_id, name, relation, phone in (
            known.values_list("pk", "student_id", "name", "relation", "phone") if matched else ()
        )
    }
    new_ids = _id_source()
    school_id = str(school.pk)  # formatted once for COPY, not once per row
    for row in parsed.rows:
        student = matched.get(row.row)
        if student is None:
            student_id = next(new_ids)
            plan.new_students.append(
                (
                    student_id,
                    school_id,
                    row.name,
                    row.birth_date,
                    row.sex,
                    row.grade,
                    row.class_no,
                    row.number,
                    row.neis_id,
                    row.home_borough.pk if row.home_borough else None,
                )
            )
            plan.actions[row.row] = "create"
        else:
            student_id = student[PK]
            changed = _student_changes(student, row)
            if changed:
                plan.changed_students[student_id] = changed
                plan.changed_fields.update(changed)
            plan.actions[row.row] = "update" if changed else "unchanged"
        guardian_changed = row.guardian_name and _plan_guardian(
            plan, guardians, student_id, row, new_ids
        )
        if guardian_changed and plan.actions[row.row] == "unchanged":
            plan.actions[row.row] = "update"
    return plan


def _student_changes(student: tuple, row: RosterRow) -> dict:
    """The fields of a matched student that the row changes, by field name."""
    changed = {}
    for position, name in enumerate(("grade", "class_no", "number", "sex"), start=4):
        if student[position] != getattr(row, name):
            changed[name] = getattr(row, name)
    # A blank NEIS id or borough in the file keeps what is known: exports often leave them out.
    if row.neis_id and student[NEIS] != row.neis_id:
        changed["neis_id"] = row.neis_id
    if row.home_borough and student[BOROUGH] != row.home_borough.pk:
        changed["home_borough"] = row.home_borough.pk
    return changed


def _plan_guardian(plan: Plan, guardians: dict, student_id, row: RosterRow, new_ids) -> bool:
    """A guardian new to the student (by name and relation) is added; a known one gets the new
    phone number. True if anything changes."""
    current = guardians.get((student_id, row.guardian_name, row.guardian_relation))
    if current is None:
        plan.new_guardians.append(
            (
                next(new_ids),
                student_id,
                row.guardian_name,
                row.guardian_relation,
                row.guardian_phone,
            )
        )
        return True
    pk, phone = current
    if row.guardian_phone and phone != row.guardian_phone:
        plan.changed_guardians[pk] = row.guardian_phone
        return True
    return False


@_without_gc
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
    """Write the plan with its history rows. On PostgreSQL new rows go in by COPY and changed
    ones by one UPDATE per table, each followed by its history rows (`scale`); elsewhere (the
    SQLite demo) through simple-history's bulk helpers."""
    if connection.vendor == "postgresql":
        history = {"by": by, "reason": CHANGE_REASON}
        if plan.new_students:
            copy_rows_with_history(Student, STUDENT_COLUMNS, plan.new_students, **history)
        if plan.changed_students:
            fields = sorted(plan.changed_fields)
            # None where this row leaves the field as it is.
            rows = [
                (pk, *(changes.get(name) for name in fields))
                for pk, changes in plan.changed_students.items()
            ]
            update_rows_with_history(Student, fields, rows, **history)
        if plan.new_guardians:
            copy_rows_with_history(Guardian, GUARDIAN_COLUMNS, plan.new_guardians, **history)
        if plan.changed_guardians:
            rows = list(plan.changed_guardians.items())
            update_rows_with_history(Guardian, ["phone"], rows, **history)
        return

    # Tasks have no request for simple-history's middleware, so the actor and the reason are
    # given to the bulk helpers; a queryset update() would leave no history at all.
    history = {"default_user": by, "default_change_reason": CHANGE_REASON}
    if plan.new_students:
        students = [
            Student(**dict(zip(STUDENT_COLUMNS, row, strict=True))) for row in plan.new_students
        ]
        bulk_create_with_history(students, Student, batch_size=BATCH_SIZE, **history)
    if plan.changed_students:
        students = Student.objects.in_bulk(list(plan.changed_students))
        now = timezone.now()
        for pk, changes in plan.changed_students.items():
            for name, value in changes.items():
                setattr(students[pk], Student._meta.get_field(name).attname, value)
            students[pk].updated_at = now  # bulk_update skips auto_now
        bulk_update_with_history(
            [students[pk] for pk in plan.changed_students],
            Student,
            sorted(plan.changed_fields | {"updated_at"}),
            batch_size=BATCH_SIZE,
            **history,
        )
    if plan.new_guardians:
        guardians = [
            Guardian(**dict(zip(GUARDIAN_COLUMNS, row, strict=True))) for row in plan.new_guardians
        ]
        bulk_create_with_history(guardians, Guardian, batch_size=BATCH_SIZE, **history)
    if plan.changed_guardians:
        guardians = Guardian.objects.in_bulk(list(plan.changed_guardians))
        for pk, phone in plan.changed_guardians.items():
            guardians[pk].phone = phone
        bulk_update_with_history(
            [guardians[pk] for pk in plan.changed_guardians],
            Guardian,
            ["phone"],
            batch_size=BATCH_SIZE,
            **history,
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
