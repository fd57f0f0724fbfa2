"""Retention (Decree 10, DESIGN.md §9): students past their keeping period are anonymised —
history included — with a register line each; closed cases that never had both consents lose
their free text after PRECONSENT_RETENTION_DAYS; the privacy officer reads the register and the
forecast."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from casework.models import Case, DestructionRecord, Guardian, Note, Student
from casework.workflows import erasure, lifecycle, records
from partners.choices import SchoolLevel
from tests import factories
from tests.builders import select_case

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def graduate(world, opened_case):
    """정다온 graduated from a high school, with a guardian, a note and a consent."""
    world.school.school_level = SchoolLevel.HIGH
    world.school.save()
    Guardian.objects.create(
        student=opened_case.student, name="정보호", relation="모", phone="010-1234-5678"
    )
    records.add_note(opened_case, by=world["coordinator"], kind="call", body="보호자와 통화함")
    records.update_case(opened_case, by=world["coordinator"], version=None, summary="가정 형편")
    student = opened_case.student
    student.enrolment_status = "graduated"
    student.save()
    return opened_case


def test_a_high_school_graduate_is_anonymised_with_history(world, graduate):
    student = graduate.student
    birth = student.birth_date
    run = erasure.apply_retention()
    assert run.anonymised == 1
    student.refresh_from_db()
    assert student.name.startswith("익명-") and student.birth_date == birth.replace(month=1, day=1)
    assert not Student.history.filter(id=student.pk, name="정다온").exists()
    guardian = Guardian.objects.get(student=student)
    assert guardian.name == "[파기됨]" and guardian.phone == ""
    assert not Guardian.history.filter(phone="010-1234-5678").exists()
    note = Note.objects.get(case=graduate)
    assert note.body == "[파기됨]" and not Note.history.filter(body="보호자와 통화함").exists()
    case = Case.objects.get(pk=graduate.pk)
    assert case.summary == "[파기됨]" and case.status == graduate.status  # codes stay
    assert not Case.history.filter(id=case.pk, summary="가정 형편").exists()
    assert case.history.first().history_change_reason == "보관 기간 경과로 익명화"
    record = DestructionRecord.objects.get(object_type="student")
    assert record.rule == "selection_retention" and record.action == "anonymised"
    assert {"student.name", "guardian.phone", "note.body", "case.summary"} <= set(record.parts)
    assert "정다온" not in str(record.__dict__)
    assert erasure.apply_retention().anonymised == 0  # once


def test_leaving_school_counts_from_the_nineteenth_birthday(world):
    young = factories.StudentFactory(
        school=world.school, enrolment_status="left", birth_date=TODAY() - timedelta(days=365 * 18)
    )
    old = factories.StudentFactory(
        school=world.school,
        enrolment_status="left",
        birth_date=TODAY().replace(year=TODAY().year - 20),
    )
    enrolled = factories.StudentFactory(
        school=world.school, birth_date=TODAY().replace(year=TODAY().year - 20)
    )
    due = set(erasure.selection_due().values_list("pk", flat=True))
    assert old.pk in due and young.pk not in due and enrolled.pk not in due


def test_an_elementary_graduate_is_kept(world, opened_case):
    opened_case.student.enrolment_status = "graduated"
    opened_case.student.save()
    assert not erasure.selection_due().exists()


def test_a_closed_case_without_both_consents_loses_its_text(world, opened_case, settings):
    records.add_note(opened_case, by=world["coordinator"], kind="call", body="첫 상담")
    case = lifecycle.transition_case(
        opened_case,
        by=world["coordinator"],
        to="closed",
        closure_reason="refused",
        reason="지원 거부",
    )
    Case.objects.filter(pk=case.pk).update(opened_on=TODAY() - timedelta(days=200))
    settings.PRECONSENT_RETENTION_DAYS = 180
    run = erasure.apply_retention()
    assert run.destroyed == 1
    assert Note.objects.get(case=case).body == "[파기됨]"
    student = Student.objects.get(pk=case.student_id)
    assert student.name == "정다온"  # the roster entry is the school's
    record = DestructionRecord.objects.get(object_type="case")
    assert record.rule == "preconsent_retention" and record.case_id == case.pk


def test_a_case_with_both_consents_is_kept(world, opened_case, settings):
    case = select_case(world, opened_case)
    for subject, extra in (
        ("student", {}),
        ("guardian", {"guardian_name": "김보호", "relation": "모"}),
    ):
        records.record_consent(
            case,
            by=world["coordinator"],
            subject=subject,
            purposes=["support"],
            method="written",
            given_on=TODAY(),
            **extra,
        )
    case = lifecycle.transition_case(
        case, by=world["coordinator"], to="closed", closure_reason="refused", reason="지원 거부"
    )
    Case.objects.filter(pk=case.pk).update(opened_on=TODAY() - timedelta(days=400))
    assert not erasure.preconsent_due().exists()


def test_the_officer_reads_the_register_and_the_forecast(world, graduate):
    erasure.apply_retention()
    body = api(world["privacy"]).get("/api/v1/audit/destructions/").json()
    (line,) = body["results"]
    assert line["object_type"] == "student" and line["rule"] == "selection_retention"
    assert {f["rule"] for f in body["forecast"]} == {"selection_retention", "preconsent_retention"}
    assert (
        api(world["privacy"])
        .get("/api/v1/audit/destructions/", {"rule": "export_expiry"})
        .json()["results"]
        == []
    )
    assert (
        api(world["privacy"]).get("/api/v1/audit/destructions/", {"since": "어제"}).status_code
        == 400
    )
    assert api(world["coordinator"]).get("/api/v1/audit/destructions/").status_code == 403
    busan = factories.ProvincialOfficeFactory(code="C10", name="부산광역시교육청")
    officer = factories.UserFactory(username="busan-privacy")
    factories.MembershipFactory(user=officer, organization=busan, role="privacy_officer")
    assert api(officer).get("/api/v1/audit/destructions/").json()["results"] == []
    client = APIClient()
    client.force_login(world["privacy"])
    page = client.get("/casework/oversight/destructions/")
    assert page.status_code == 200 and "선정 자료 보관 기간 경과" in page.content.decode()


def test_the_forecast_counts_what_is_coming(world):
    factories.StudentFactory(
        school=world.school,
        enrolment_status="left",
        birth_date=TODAY().replace(year=TODAY().year - 19) + timedelta(days=10),
    )
    (selection, _preconsent) = erasure.forecast()
    assert selection.count == 1 and selection.first_on == TODAY() + timedelta(days=10)
