"""The casework pages as their users use them."""

import io

import pytest
from django.urls import reverse

from casework.models import AccessEvent, Case, Concern, Job, Notification, SupportPlan
from casework.workflows import intake, records, team
from tests.builders import approved_plan, as_user, consent_both, select_case
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db


def test_teacher_raises_a_concern_in_three_requests(client, world):
    student = StudentFactory(school=world.school, name="한가람", grade=3, class_no=1)
    as_user(client, world, "teacher")
    form = client.get(reverse("casework:concern_new"))
    assert form.status_code == 200
    found = client.get(reverse("casework:concern_new"), {"q": "가람"}, HTTP_HX_REQUEST="true")
    assert "한가람" in found.content.decode() and "<html" not in found.content.decode()
    sent = client.post(
        reverse("casework:concern_new"),
        {
            "student": student.pk,
            "difficulties": ["basic_learning"],
            "urgency": "normal",
            "description": "받아쓰기 어려움",
        },
    )
    assert sent.status_code == 302 and sent["Location"] == reverse("casework:concern_list")
    listing = client.get(sent["Location"]).content.decode()
    assert "한가람" in listing and "기초학력" in listing


def test_coordinator_triages_and_lands_on_the_case(client, world):
    student = StudentFactory(school=world.school)
    concern = intake.raise_concern(by=world["teacher"], student=student, difficulties=["health"])
    as_user(client, world, "coordinator")
    response = client.post(
        reverse("casework:concern_triage", args=[concern.pk]), {"decision": "open_case"}
    )
    case = Case.objects.get(student=student)
    assert response["Location"] == reverse("casework:case_detail", args=[case.pk])
    assert Concern.objects.get(pk=concern.pk).case == case


def test_case_page_hides_restricted_notes_from_the_principal(client, world, opened_case):
    team.add_team_member(
        opened_case, by=world["coordinator"], user=world["counselor"], role="counsellor"
    )
    records.add_note(
        opened_case,
        by=world["counselor"],
        kind="counselling",
        body="비공개 상담 내용",
        confidentiality="restricted",
    )
    records.add_note(opened_case, by=world["coordinator"], kind="call", body="보호자 통화")
    url = reverse("casework:case_detail", args=[opened_case.pk])
    coordinator_page = as_user(client, world, "coordinator").get(url).content.decode()
    assert "비공개 상담 내용" in coordinator_page and "보호자 통화" in coordinator_page
    principal_page = as_user(client, world, "principal").get(url).content.decode()
    assert "비공개 상담 내용" not in principal_page and "보호자 통화" in principal_page


def test_guard_and_stale_version_are_explained_in_korean(client, world, opened_case):
    as_user(client, world, "coordinator")
    action = reverse("casework:case_action", args=[opened_case.pk, "transition"])
    client.post(action, {"to": "reviewing", "version": opened_case.version})
    page = client.post(action, {"to": "selected", "version": opened_case.version + 1}, follow=True)
    assert "선정 결정" in page.content.decode()
    stale = client.post(
        action, {"to": "closed", "version": 1, "closure_reason": "other"}, follow=True
    )
    assert "다른 사용자가 먼저 수정했습니다" in stale.content.decode()
    opened_case.refresh_from_db()
    assert opened_case.status == "reviewing"


def test_case_actions_record_consents_plans_and_notes(client, world, opened_case):
    opened_case = select_case(world, opened_case)
    as_user(client, world, "coordinator")
    url = lambda action: reverse("casework:case_action", args=[opened_case.pk, action])  # noqa: E731
    client.post(
        url("consent"),
        {
            "subject": "student",
            "purposes": ["support"],
            "method": "written",
            "given_on": "2026-11-01",
        },
    )
    client.post(
        url("consent"),
        {
            "subject": "guardian",
            "guardian_name": "정보호",
            "relation": "부",
            "purposes": ["support"],
            "method": "written",
            "given_on": "2026-11-01",
        },
    )
    client.post(
        url("plan"),
        {"goals": "주 1회 상담\n학습 보충", "starts_on": "2026-11-01", "review_on": "2026-12-01"},
    )
    plan = SupportPlan.objects.get(case=opened_case)
    assert plan.goals == ["주 1회 상담", "학습 보충"]
    client.post(url("plan_submit"), {"plan": plan.pk, "version": plan.version})
    client.post(
        url("note"), {"kind": "observation", "confidentiality": "team", "body": "수업 참여 늘어남"}
    )
    assert opened_case.consents.count() == 2 and opened_case.notes.count() == 1
    assert SupportPlan.objects.get(pk=plan.pk).status == "submitted"


def test_one_access_event_per_page_view(client, world, opened_case):
    as_user(client, world, "coordinator")
    for name, args in [
        ("casework:case_detail", [opened_case.pk]),
        ("casework:case_list", []),
        ("casework:queue", []),
        ("casework:student_detail", [opened_case.student_id]),
        ("casework:student_list", []),
        ("casework:concern_list", []),
    ]:
        before = AccessEvent.objects.count()
        assert client.get(reverse(name, args=args)).status_code == 200
        assert AccessEvent.objects.count() == before + 1, name


def test_queue_shows_the_days_work(client, world, opened_case):
    intake.raise_concern(
        by=world["teacher"],
        student=StudentFactory(school=world.school, name="새요청"),
        difficulties=["health"],
    )
    body = as_user(client, world, "coordinator").get(reverse("casework:queue")).content.decode()
    assert "새요청" in body and "새 지원 요청" in body and "동의가 필요한 사례" in body


def test_page_queries_do_not_grow(client, world, django_assert_max_num_queries):
    as_user(client, world, "coordinator")

    def grow(n):
        cases = []
        for _ in range(n):
            student = StudentFactory(school=world.school)
            intake.raise_concern(by=world["teacher"], student=student, difficulties=["health"])
            case = select_case(
                world, intake.open_case(by=world["coordinator"], student=student, difficulties=[])
            )
            consent_both(world, case)
            approved_plan(world, case)
            records.add_note(case, by=world["coordinator"], kind="call", body="b")
            cases.append(case)
        return cases

    for size in (2, 6):
        case = grow(size)[0]
        for url in (
            reverse("casework:queue"),
            reverse("casework:case_list"),
            reverse("casework:case_detail", args=[case.pk]),
        ):
            with django_assert_max_num_queries(45):
                assert client.get(url).status_code == 200


def test_roster_import_page_runs_the_job(client, world, django_capture_on_commit_callbacks):
    as_user(client, world, "coordinator")
    upload = io.BytesIO("학년,반,번호,성명,생년월일,성별\n1,1,1,첫학생,2019-03-03,여\n".encode())
    upload.name = "명부.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("casework:roster_import"), {"file": upload, "save_now": "on"}
        )
    job = Job.objects.get()
    assert response["Location"] == reverse("casework:job_detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "새 학생 1명" in page


def test_principal_approves_and_returns_plans(client, world, opened_case):
    from django.utils import timezone

    from casework.workflows import planning

    opened_case = select_case(world, opened_case)
    today = timezone.localdate()
    plan = planning.create_plan(
        opened_case, by=world["coordinator"], goals=["g"], starts_on=today, review_on=today
    )
    planning.submit_plan(plan, by=world["coordinator"])
    as_user(client, world, "principal")
    assert opened_case.number in client.get(reverse("casework:approvals")).content.decode()
    missing = client.post(
        reverse("casework:plan_decide", args=[plan.pk, "return"]), {}, follow=True
    )
    assert "돌려보내는 사유" in missing.content.decode()
    client.post(
        reverse("casework:plan_decide", args=[plan.pk, "approve"]), {"version": plan.version + 1}
    )
    assert SupportPlan.objects.get(pk=plan.pk).status == "approved"
    assert Notification.objects.filter(
        recipient=world["coordinator"], kind="plan_approved"
    ).exists()


def test_overview_for_heads_only(client, world, opened_case):
    assert (
        as_user(client, world, "principal").get(reverse("casework:school_overview")).status_code
        == 200
    )
    assert (
        as_user(client, world, "vice").get(reverse("casework:school_overview")).status_code == 200
    )
    assert (
        as_user(client, world, "teacher").get(reverse("casework:school_overview")).status_code
        == 403
    )


def test_notification_never_redirects_off_site(client, world):
    notification = Notification.objects.create(
        recipient=world["teacher"], kind="x", title="t", url="https://evil.example/"
    )
    as_user(client, world, "teacher")
    response = client.post(reverse("casework:notification_open", args=[notification.pk]))
    assert response["Location"] == reverse("casework:notifications")
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_mark_all_read_keeps_history(client, world):
    for title in ("a", "b"):
        Notification.objects.create(recipient=world["teacher"], kind="x", title=title)
    as_user(client, world, "teacher")
    assert client.post(reverse("casework:notifications_read_all")).status_code == 302
    assert not Notification.objects.filter(
        recipient=world["teacher"], read_at__isnull=True
    ).exists()
    changes = Notification.history.filter(recipient=world["teacher"], history_type="~")
    assert changes.count() == 2 and {h.history_user for h in changes} == {world["teacher"]}


def test_case_page_forms_speak_the_pages_language(client, world, opened_case):
    as_user(client, world, "coordinator")
    url = reverse("casework:case_detail", args=[opened_case.pk])
    korean = client.get(url).content.decode()
    assert "수업 중 집중을 유지하기 어렵다" in korean and "거의 항상" in korean
    assert "동의 주체" in korean and "공개 범위" in korean
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get(url).content.decode()
    # the checklist and the unfilled forms are rendered once per language and kept: English
    # never gets the Korean copy
    assert "Finds it hard to stay focused in class" in english and "Almost always" in english
    assert "Consent given by" in english and "Visibility" in english
    assert "수업 중 집중을 유지하기 어렵다" not in english and "동의 주체" not in english
