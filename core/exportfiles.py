"""What every file Ieum lets out carries: the watermark (who, for which organisation, when, why),
cells that no spreadsheet runs as formulas, and the XLSX layout with a cover sheet and the
watermark in every sheet's header and footer (DESIGN.md §10)."""

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

# A cell that a spreadsheet would read as a formula (CSV/formula injection) gets a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Header and footer text in Excel is limited to 255 characters, codes included.
HEADER_MAX = 200


def neutralised(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def as_cell(value):
    """A data cell as written: a number stays a number a spreadsheet can add up (it runs
    nothing), anything else is text, neutralised."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return neutralised(value)


def watermark(name: str, organization: str, when: datetime, reason: str) -> str:
    """ "김민지 · 이음초등학교 · 2026-12-03 09:30 · 사유: 사례회의 자료" (local time)."""
    return _("%(name)s · %(organization)s · %(when)s · 사유: %(reason)s") % {
        "name": name,
        "organization": organization or "-",
        "when": timezone.localtime(when).strftime("%Y-%m-%d %H:%M"),
        "reason": reason,
    }


def attachment(content: bytes, name: str, content_type: str) -> HttpResponse:
    """A download no cache keeps, its file name safe in any language (RFC 6266 `filename*`)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _header_text(text: str) -> str:
    # "&" starts a header code in Excel; doubled it is a literal ampersand.
    text = text.replace("&", "&&")
    return text if len(text) <= HEADER_MAX else text[: HEADER_MAX - 1] + "…"


def xlsx(
    title: str,
    mark: str,
    cover: Sequence[tuple[str, str]],
    header: Sequence[str],
    rows: Iterable[Sequence],
) -> tuple[bytes, int]:
    """A workbook: a cover sheet (the title, the watermark and `cover`'s label/value lines),
    then one sheet of `header` and `rows`; every text value neutralised (numbers stay numbers),
    the watermark in every sheet's header and footer. Returns the bytes and the number of rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=False)
    front = book.active
    front.title = _("표지")
    front.append([neutralised(title)])
    front["A1"].font = Font(bold=True, size=14)
    front.append([])
    front.append([_("내려받은 사람·기관·일시·사유"), neutralised(mark)])
    for label, value in cover:
        front.append([neutralised(label), neutralised(value)])
    front.append([])
    front.append([_("이 파일은 개인정보를 담고 있습니다. 정해진 목적에만 쓰고, 다 쓰면 지우세요.")])
    front.column_dimensions["A"].width = 28
    front.column_dimensions["B"].width = 80

    sheet = book.create_sheet(_("목록"))
    sheet.append([neutralised(h) for h in header])
    fill = PatternFill("solid", fgColor="EEF2F7")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
    count = 0
    for row in rows:
        sheet.append([as_cell(value) for value in row])
        count += 1
    sheet.freeze_panes = "A2"
    for index in range(len(header)):
        sheet.column_dimensions[get_column_letter(index + 1)].width = 18
    for ws in (front, sheet):
        text = _header_text(mark)
        ws.oddHeader.center.text = text
        ws.oddFooter.center.text = text
        ws.evenHeader.center.text = text
        ws.evenFooter.center.text = text
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), count
