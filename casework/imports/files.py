"""Reading a roster file: CSV (UTF-8 or CP949) or XLSX, as rows of cells, with the limits that
refuse a file too large to read before it is parsed."""

import csv
import io
import re
import zipfile
from datetime import date, datetime

from django.conf import settings
from django.utils.translation import gettext as _

# The largest Korean schools have a few thousand pupils; a bigger file is a mistake (or a whole
# district's export) and would hold a worker for long.
MAX_ROWS = 20_000
# Title lines ("2026학년도 학생 명부") often sit above the header in NEIS exports.
HEADER_SCAN_ROWS = 10


class RosterFileError(ValueError):
    """The file as a whole cannot be read."""

    row: int | None = 1  # where the job's error points: the file's first row


class FileTooLarge(RosterFileError):
    """The file would expand past what a worker may read (an XLSX is a zip archive): refused
    before it is parsed, with no row to point at."""

    row = None


def cell_text(value) -> str:
    """A cell's value as stripped text: dates in ISO form, whole floats without ".0"."""
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


def too_many_rows() -> RosterFileError:
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
                raise too_many_rows()
    return table


def _blank(cells) -> bool:
    return not any(cell_text(c) for c in cells)


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
