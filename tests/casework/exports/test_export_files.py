"""What the exported files hold (DESIGN.md §10): the watermark (requester, organisation, time,
reason) on the XLSX cover sheet and in every sheet's header and footer, and on every page of the
PDF; cells a spreadsheet would run as formulas neutralised; restricted notes only for readers."""

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from casework.models import Job
from casework.workflows import intake, records
from core import exportfiles
from tests.factories import StudentFactory

from .conftest import REASON

pytestmark = pytest.mark.django_db


def workbook(job: Job):
    assert job.status == Job.Status.SUCCEEDED, job.errors
    return load_workbook(io.BytesIO(bytes(job.payload)))


def pages(job: Job) -> list[str]:
    assert job.status == Job.Status.SUCCEEDED, job.errors
    return [page.extract_text() for page in PdfReader(io.BytesIO(bytes(job.payload))).pages]


def test_the_case_list_carries_the_watermark_on_its_cover_and_every_header_and_footer(
    world, made, noted_case
):
    world["coordinator"].first_name, world["coordinator"].last_name = "민지", "김"
    world["coordinator"].save()
    job = made("coordinator", "case_list")
    book = workbook(job)
    cover, rows = book.worksheets
    cover_text = " ".join(str(c.value) for row in cover.iter_rows() for c in row if c.value)
    for part in (REASON, "이음초등학교", world["coordinator"].get_full_name()):
        assert part in cover_text
    for sheet in book.worksheets:
        for place in (sheet.oddHeader, sheet.oddFooter, sheet.evenHeader, sheet.evenFooter):
            text = place.center.text
            assert REASON in text and "이음초등학교" in text
    assert [c.value for c in rows[2]][1] == "정다온"


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_cells_that_would_run_as_formulas_are_neutralised(world, made, name):
    student = StudentFactory(school=world.school, name=name)
    intake.open_case(by=world["coordinator"], student=student, difficulties=["economic"])
    job = made("coordinator", "case_list")
    rows = workbook(job).worksheets[1]
    names = [row[1].value for row in rows.iter_rows(min_row=2)]
    assert names == ["'" + name]
    assert all(cell.data_type != "f" for row in rows.iter_rows() for cell in row)


def test_a_formula_in_the_reason_is_neutralised_on_the_cover(made, noted_case):
    job = made("coordinator", "case_list", reason="=cmd|'/c calc'!A1")
    cover = workbook(job).worksheets[0]
    assert all(
        not str(c.value).startswith("=") for row in cover.iter_rows() for c in row if c.value
    )


def test_the_referral_list_carries_the_watermark(world, made, net, noted_case):
    job = made("coordinator", "referral_list", {"box": "outbox", "status": "all"})
    book = workbook(job)
    assert all(REASON in sheet.oddHeader.center.text for sheet in book.worksheets)


def test_the_case_summary_carries_the_watermark_on_every_page(world, made, noted_case):
    for i in range(40):  # enough notes for more than one page
        records.add_note(noted_case, by=world["coordinator"], kind="observation", body=f"관찰 {i}")
    job = made("coordinator", "case_summary", {"case": str(noted_case.pk)})
    texts = pages(job)
    assert len(texts) > 1
    assert "사례 요약" in texts[0] and "정다온" in texts[0]
    for text in texts:
        assert f"사유: {REASON}" in text and "이음초등학교" in text
    assert job.file_name.endswith(".pdf") and job.result["content_type"] == "application/pdf"


def test_restricted_notes_are_left_out_for_a_reader_without_the_right(made, noted_case):
    text = " ".join(pages(made("principal", "case_summary", {"case": str(noted_case.pk)})))
    assert "수업 중 졸음" in text
    assert "비공개 상담 내용" not in text


def test_restricted_notes_are_in_for_their_reader(made, noted_case):
    text = " ".join(pages(made("coordinator", "case_summary", {"case": str(noted_case.pk)})))
    assert "수업 중 졸음" in text and "비공개 상담 내용" in text


def test_numbers_stay_numbers_and_text_is_neutralised():
    content, _rows = exportfiles.xlsx(
        "표", "워터마크", [], ["값"], [[5], [-3], [2.5], ["=1+1"], ["-3"], [True], [None]]
    )
    book = load_workbook(io.BytesIO(content))
    values = [row[0].value for row in book.worksheets[-1].iter_rows(min_row=2)]
    assert values[:3] == [5, -3, 2.5]  # a spreadsheet adds them up
    assert values[3:6] == ["'=1+1", "'-3", "True"]  # text that would run stays text
