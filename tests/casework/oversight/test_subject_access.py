"""Subject access (PIPA 35조): everything held on a student and every access event about them,
as JSON and as a Korean PDF, for the owner school's coordinator and the privacy officer only,
with a stated reason that is logged and printed on every page."""

import io

import pytest
from pypdf import PdfReader
from rest_framework.test import APIClient

from casework.models import AccessEvent, Guardian, Note
from casework.workflows import records
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/students/{}/subject-access/"


def api(world, username):
    client = APIClient()
    client.force_authenticate(world[username])
    return client


@pytest.fixture
def held(world, opened_case):
    """정다온's case with a guardian, a team note and a restricted note."""
    Guardian.objects.create(
        student=opened_case.student, name="정보호", relation="모", phone="010-1234-5678"
    )
    records.add_note(opened_case, by=world["coordinator"], kind="observation", body="수업 중 졸음")
    records.add_note(
        opened_case,
        by=world["coordinator"],
        kind="counselling",
        body="비공개 상담 내용",
        confidentiality=Note.Confidentiality.RESTRICTED,
    )
    return opened_case


def test_the_coordinator_gets_everything_held_and_who_read_it(world, held):
    student = held.student
    api(world, "coordinator").get(f"/api/v1/cases/{held.pk}/")  # a read to be listed
    answer = api(world, "coordinator").get(URL.format(student.pk), {"reason": "보호자 열람 청구"})
    assert answer.status_code == 200
    data = answer.json()
    assert data["student"]["name"] == "정다온"
    assert data["guardians"][0]["phone"] == "010-1234-5678"
    (case,) = data["cases"]
    assert case["number"] == held.number
    bodies = {n["body"] for n in case["notes"]}
    assert bodies == {"수업 중 졸음", "비공개 상담 내용"}  # the coordinator reads restricted notes
    assert any(e["object_type"] == "case" and e["action"] == "view" for e in data["access_events"])
    assert data["reason"] == "보호자 열람 청구"
    assert answer["Cache-Control"] == "no-store"


def test_the_privacy_officer_never_gets_restricted_notes(world, held):
    data = api(world, "privacy").get(URL.format(held.student_id), {"reason": "열람 청구"}).json()
    bodies = {n["body"] for n in data["cases"][0]["notes"]}
    assert bodies == {"수업 중 졸음"}


def test_producing_it_is_logged_with_its_reason(world, held):
    api(world, "privacy").get(URL.format(held.student_id), {"reason": "보호자 열람 청구 12-1"})
    event = AccessEvent.objects.filter(object_type="subject_access").get()
    assert event.user == world["privacy"]
    assert event.action == "export"
    assert event.reason == "보호자 열람 청구 12-1"
    assert event.student_id == held.student_id


@pytest.mark.parametrize("query", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}])
def test_a_reason_is_required(world, held, query):
    answer = api(world, "coordinator").get(URL.format(held.student_id), query)
    assert answer.status_code == 400
    assert "사유" in answer.json()["reason"][0]
    assert not AccessEvent.objects.filter(object_type="subject_access").exists()


def test_a_bad_format_is_a_400(world, held):
    answer = api(world, "coordinator").get(
        URL.format(held.student_id), {"reason": "r", "format": "docx"}
    )
    assert answer.status_code == 400


@pytest.mark.parametrize(
    "username", ["teacher", "principal", "coordinator2", "centrehead", "analyst"]
)
def test_nobody_else_learns_the_student_exists(world, held, username):
    answer = api(world, username).get(URL.format(held.student_id), {"reason": "r"})
    assert answer.status_code == 404


def test_a_privacy_officer_of_another_province_is_told_nothing(world, held):
    busan = factories.ProvincialOfficeFactory(code="C10", name="부산광역시교육청")
    officer = factories.UserFactory(username="busan-privacy")
    factories.MembershipFactory(user=officer, organization=busan, role="privacy_officer")
    client = APIClient()
    client.force_authenticate(officer)
    assert client.get(URL.format(held.student_id), {"reason": "r"}).status_code == 404


def test_the_pdf_is_korean_with_the_watermark_on_every_page(world, held):
    for i in range(40):  # enough rows for more than one page
        records.add_note(held, by=world["coordinator"], kind="observation", body=f"관찰 기록 {i}")
    answer = api(world, "coordinator").get(
        URL.format(held.student_id), {"reason": "보호자 열람 청구", "format": "pdf"}
    )
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.content))
    assert len(reader.pages) > 1
    first = reader.pages[0].extract_text()
    assert "개인정보 열람 결과" in first and "정다온" in first
    for page in reader.pages:
        text = page.extract_text()
        assert "사유: 보호자 열람 청구" in text
        assert world["coordinator"].get_full_name() in text
    fonts = {
        str(font.get("/BaseFont", ""))
        for page in reader.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
        for font in [font.get_object()]
    }
    assert any("Pretendard" in name for name in fonts)  # embedded, not the reader's


def test_the_page_asks_for_the_reason_and_keeps_what_was_typed(client, world, held):
    client.force_login(world["coordinator"])
    url = f"/casework/students/{held.student_id}/subject-access/"
    assert client.get(url).status_code == 200
    answer = client.post(url, {"reason": "", "format": "json"})
    assert answer.status_code == 400
    assert "form-hint-invalid" in answer.content.decode()
    answer = client.post(url, {"reason": "열람 청구", "format": "json"})
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith("attachment;")
    assert answer.json()["student"]["name"] == "정다온"


def test_the_student_page_offers_it_to_the_coordinator_only(client, world, held):
    link = f"/casework/students/{held.student_id}/subject-access/"
    client.force_login(world["coordinator"])
    assert link in client.get(f"/casework/students/{held.student_id}/").content.decode()
    client.force_login(world["principal"])
    page = client.get(f"/casework/students/{held.student_id}/")
    assert page.status_code == 200 and link not in page.content.decode()


def test_the_privacy_officer_finds_the_student_by_name_and_birth_date(client, world, held):
    client.force_login(world["privacy"])
    student = held.student
    page = client.get(
        "/casework/oversight/subject-access/",
        {"name": "정다온", "birth_date": student.birth_date.isoformat()},
    )
    assert f"/casework/students/{student.pk}/subject-access/" in page.content.decode()
    page = client.get("/casework/oversight/subject-access/", {"name": "정다온", "birth_date": "x"})
    assert page.status_code == 400
    page = client.get(
        "/casework/oversight/subject-access/", {"name": "정", "birth_date": student.birth_date}
    )
    assert str(student.pk) not in page.content.decode()  # exact matches only
