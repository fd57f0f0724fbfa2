"""The committee report as an export (kind `report`): for an office the requester may report on,
a half-year that has begun and a file format; the file carries the requester's watermark with
their reason, making it is an access event `export` and each download one `download`."""

import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from casework.models import AccessEvent, Job
from casework.workflows import exports

from .conftest import REASON

pytestmark = pytest.mark.django_db


def params(world, **more):
    return {"office": str(world.nambu.pk), "half": "2026H1", "format": "xlsx", **more}


def test_the_analyst_makes_the_committee_report_as_xlsx(world, made, web):
    job = made("analyst", "report", params(world))
    assert job.status == Job.Status.SUCCEEDED, job.errors
    book = openpyxl.load_workbook(io.BytesIO(job.payload))
    text = " ".join(
        str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row
    )
    assert REASON in text and "서울특별시남부교육지원청" in text
    assert REASON in book.worksheets[-1].oddHeader.center.text + str(
        book.worksheets[-1].oddFooter.center.text
    ) or any(REASON in (s.oddFooter.center.text or "") for s in book.worksheets)
    assert AccessEvent.objects.filter(
        action="export", object_type="committee_report", reason=REASON
    ).exists()
    answer = web("analyst").get(f"/casework/exports/{job.pk}/download/")
    assert answer.status_code == 200
    assert AccessEvent.objects.filter(action="download", reason=REASON).exists()


def test_a_centre_head_makes_their_office_report_as_pdf(world, made):
    job = made("centrehead", "report", params(world, format="pdf"))
    assert job.status == Job.Status.SUCCEEDED, job.errors
    pages = PdfReader(io.BytesIO(job.payload)).pages
    assert pages and all(REASON in page.extract_text() for page in pages)


@pytest.mark.parametrize(
    ("username", "change"),
    [
        ("centrehead", {"office": "bukbu"}),  # another office
        ("principal", {}),  # no committee report for a school's head
        ("coordinator", {}),
        ("analyst", {"half": "2026H3"}),
        ("analyst", {"half": "2099H1"}),  # not begun
        ("analyst", {"format": "docx"}),
        ("analyst", {"office": "not-an-id"}),
        ("analyst", {"extra": "1"}),
    ],
)
def test_what_cannot_be_reported_is_refused(world, username, change):
    asked = params(world, **change)
    if asked["office"] == "bukbu":
        asked["office"] = str(world.bukbu.pk)
    with pytest.raises(ValidationError) as refused:
        exports.request_export(by=world[username], kind="report", params=asked, reason=REASON)
    assert "params" in refused.value.message_dict
    assert not Job.objects.filter(kind=Job.Kind.EXPORT).exists()
