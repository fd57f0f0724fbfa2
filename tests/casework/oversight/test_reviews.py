"""The monthly access-log review (PIPA safeguards 8조, DESIGN.md §9): built for a provincial office
and a month, on the first business day by the beat task or on demand; one finding per kind and
person with the events behind it; the explanation loop ask → answer → close."""

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from casework import audit
from casework.deadlines import is_business_day
from casework.models import AccessReview, Notification
from casework.workflows import reviews
from partners.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def first(month, business: bool):
    day = month.replace(day=16)
    while is_business_day(day) != business:
        day += timedelta(days=1)
    return day


@pytest.fixture
def month():
    return reviews.previous_month(timezone.localdate())


@pytest.fixture
def logged(world, opened_case, month):
    """A month of varied reads under 서울특별시교육청 (see each line)."""
    for m in Membership.objects.all():
        m.approved_on = timezone.localdate() - timedelta(days=120)
        m.save()
    work, weekend = first(month, True), first(month, False)
    case = opened_case
    coordinator = world["coordinator"]
    # The coordinator: a read in working hours, one at night, one on a weekend.
    for when in (at(work, 10), at(work, 23, 10), at(weekend, 11)):
        audit.record_access_at(when, coordinator, "view", "case", [case], case=case)
    # Downloads: one with its reason, one without.
    audit.record_access_at(
        at(work, 11), coordinator, "download", "case", [case], case=case, reason="보호자 요청"
    )
    audit.record_access_at(at(work, 11, 5), coordinator, "export", "case", [case], case=case)
    # A heavy reader among teachers who read a little.
    teacher = world["teacher"]
    for i in range(150):
        audit.record_access_at(at(work, 9) + timedelta(seconds=i), teacher, "list", "student")
    for n in range(5):
        peer = factories.UserFactory(username=f"peer{n}")
        factories.MembershipFactory(user=peer, organization=world.school, role="teacher")
        for i in range(5):
            audit.record_access_at(at(work, 9) + timedelta(seconds=i), peer, "list", "student")
    # Break-glass by the officer.
    audit.record_access_at(
        at(work, 14),
        world["privacy"],
        "break_glass",
        "case",
        [case],
        case=case,
        reason="학생 안전 확인",
    )
    # Someone whose membership had ended, someone never approved.
    leaver = factories.UserFactory(username="leaver")
    ended = factories.MembershipFactory(
        user=leaver, organization=world.school, role="teacher", ended_on=work - timedelta(days=3)
    )
    audit.record_access_at(
        at(work, 10), leaver, "view", "case", [case], case=case, membership=ended
    )
    newcomer = factories.UserFactory(username="newcomer")
    unapproved = factories.MembershipFactory(
        user=newcomer,
        organization=world.school,
        role="teacher",
        approved_on=None,
        approval_expires_on=None,
    )
    audit.record_access_at(
        at(work, 10), newcomer, "view", "case", [case], case=case, membership=unapproved
    )
    # A district case manager reading a case they are not on.
    manager = world["casemanager"]
    audit.record_access_at(
        at(work, 10),
        manager,
        "view",
        "case",
        [case],
        case=case,
        membership=manager.memberships.get(),
    )
    return case


def kinds_of(review) -> dict:
    return {(f.kind, f.user.username): f for f in review.findings.select_related("user")}


def test_the_review_finds_each_kind(world, logged, month):
    review = reviews.build_review(world.province, month, by=world["privacy"])
    assert review.status == "built" and review.event_count >= 170
    found = kinds_of(review)
    night = found[("after_hours", "coordinator")]
    assert night.count == 2 and night.detail["hours"] == "08:00-19:00"
    volume = found[("volume", "teacher")]
    assert volume.count == 150 and volume.detail["role_median"] == 5
    assert ("volume", "peer0") not in found
    export = found[("export", "coordinator")]
    assert export.count == 2
    assert export.detail == {"reasons": ["보호자 요청"], "without_reason": 1}
    assert found[("break_glass", "privacy")].detail["reasons"] == ["학생 안전 확인"]
    assert ("after_membership_end", "leaver") in found
    assert ("unapproved_handler", "newcomer") in found
    assert ("unapproved_handler", "coordinator") not in found
    assert ("outside_caseload", "casemanager") in found
    assert ("outside_caseload", "coordinator") not in found  # the coordinator's work is every case
    for finding in found.values():
        assert finding.event_ids and len(finding.event_ids) <= finding.count
    assert found[("after_hours", "coordinator")].organization == world.school


def test_the_officers_are_told(world, logged, month):
    reviews.build_review(world.province, month)
    notice = Notification.objects.get(recipient=world["privacy"], kind="access_review_built")
    assert month.strftime("%Y-%m") in notice.display_title


def test_another_province_sees_none_of_it(world, logged, month):
    busan = factories.ProvincialOfficeFactory(code="C10", name="부산광역시교육청")
    review = reviews.build_review(busan, month)
    assert review.event_count == 0 and not review.findings.exists()


def test_on_demand_over_the_api(world, logged, month):
    answer = api(world["privacy"]).post(
        "/api/v1/audit/reviews/", {"month": month.strftime("%Y-%m")}, format="json"
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["month"] == month.strftime("%Y-%m") and body["status"] == "built"
    kinds = {f["kind"] for f in body["findings"]}
    assert kinds >= {
        "after_hours",
        "volume",
        "break_glass",
        "export",
        "after_membership_end",
        "unapproved_handler",
        "outside_caseload",
    }
    detail = api(world["privacy"]).get(f"/api/v1/audit/reviews/{body['id']}/").json()
    assert {f["id"] for f in detail["findings"]} == {f["id"] for f in body["findings"]}
    listed = api(world["privacy"]).get("/api/v1/audit/reviews/").json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]


@pytest.mark.parametrize("month_text", ["2026-13", "11-2026", "", "2999-01"])
def test_a_bad_month_is_400(world, month_text):
    answer = api(world["privacy"]).post(
        "/api/v1/audit/reviews/", {"month": month_text}, format="json"
    )
    assert answer.status_code == 400 and "month" in answer.json()


def test_others_may_not_build(world):
    for username in ("coordinator", "centrehead", "analyst"):
        answer = api(world[username]).post(
            "/api/v1/audit/reviews/", {"month": "2026-11"}, format="json"
        )
        assert answer.status_code == 403, username


def test_the_explanation_loop(world, logged, month):
    review = reviews.build_review(world.province, month)
    finding = kinds_of(review)[("after_hours", "coordinator")]
    officer, coordinator = api(world["privacy"]), api(world["coordinator"])
    # Nobody but the person concerned answers, and only once asked.
    assert (
        coordinator.post(
            f"/api/v1/audit/findings/{finding.pk}/answer/", {"answer": "x"}, format="json"
        ).status_code
        == 404
    )
    asked = officer.post(
        f"/api/v1/audit/findings/{finding.pk}/ask/",
        {"question": "밤 11시 열람 사유를 알려 주세요."},
        format="json",
    )
    assert asked.status_code == 200 and asked.json()["status"] == "asked"
    notice = Notification.objects.get(recipient=world["coordinator"], kind="finding_asked")
    assert notice.url == f"/casework/oversight/findings/{finding.pk}/answer/"
    assert (
        officer.post(
            f"/api/v1/audit/findings/{finding.pk}/ask/", {"question": "또"}, format="json"
        ).status_code
        == 409
    )
    assert (
        api(world["teacher"])
        .post(f"/api/v1/audit/findings/{finding.pk}/answer/", {"answer": "x"}, format="json")
        .status_code
        == 404
    )
    answered = coordinator.post(
        f"/api/v1/audit/findings/{finding.pk}/answer/",
        {"answer": "야간 긴급 상담 대응"},
        format="json",
    )
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert Notification.objects.filter(recipient=world["privacy"], kind="finding_answered").exists()
    # Once the loop has begun, the review is not built again.
    with pytest.raises(reviews.GuardFailed):
        reviews.build_review(world.province, month)
    assert (
        coordinator.post(
            f"/api/v1/audit/findings/{finding.pk}/close/", {"resolution": "x"}, format="json"
        ).status_code
        == 404
    )
    closed = officer.post(
        f"/api/v1/audit/findings/{finding.pk}/close/", {"resolution": "확인함"}, format="json"
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    finding.refresh_from_db()
    assert [h.history_change_reason for h in finding.history.order_by("history_date")][-3:] == [
        "소명 요청",
        "소명 답변",
        "점검 결과 종결",
    ]
    review.refresh_from_db()
    assert review.status == "built"  # other findings are still open
    for other in review.findings.exclude(pk=finding.pk):
        reviews.close(other, by=world["privacy"], resolution="확인함")
    review.refresh_from_db()
    assert review.status == "reviewed" and review.reviewed_by == world["privacy"]


@pytest.mark.parametrize("body", [{}, {"question": ""}, {"question": 3}, {"question": "x" * 2001}])
def test_a_question_is_required(world, logged, month, body):
    review = reviews.build_review(world.province, month)
    finding = review.findings.first()
    answer = api(world["privacy"]).post(
        f"/api/v1/audit/findings/{finding.pk}/ask/", body, format="json"
    )
    assert answer.status_code == 400 and "question" in answer.json()


def test_the_beat_builds_on_the_first_business_day_only(world, logged, month):
    today = timezone.localdate()
    first_day = reviews.first_business_day(today)
    assert reviews.build_monthly_reviews(first_day + timedelta(days=1)) == []
    assert not AccessReview.objects.exists()
    built = reviews.build_monthly_reviews(first_day)
    assert {r.office for r in built} == {world.province}
    assert reviews.build_monthly_reviews(first_day) == []  # built already


def test_the_pages(world, logged, month):
    officer = web(world["privacy"])
    page = officer.post("/casework/oversight/reviews/", {"month": month.strftime("%Y-%m")})
    assert page.status_code == 302
    review = AccessReview.objects.get()
    text = officer.get(page.url).content.decode()
    assert "업무 시간 외 접속" in text and "평소보다 많은 열람" in text
    finding = kinds_of(review)[("after_hours", "coordinator")]
    detail = officer.get(f"/casework/oversight/findings/{finding.pk}/")
    assert detail.status_code == 200 and "근거 접속 기록" in detail.content.decode()
    empty = officer.post(
        f"/casework/oversight/findings/{finding.pk}/", {"do": "ask", "ask-question": ""}
    )
    assert empty.status_code == 400 and "form-hint-invalid" in empty.content.decode()
    asked = officer.post(
        f"/casework/oversight/findings/{finding.pk}/", {"do": "ask", "ask-question": "밤 열람 사유"}
    )
    assert asked.status_code == 302
    person = web(world["coordinator"])
    form = person.get(f"/casework/oversight/findings/{finding.pk}/answer/")
    assert form.status_code == 200 and "밤 열람 사유" in form.content.decode()
    sent = person.post(f"/casework/oversight/findings/{finding.pk}/answer/", {"answer": "상담"})
    assert sent.status_code == 302
    finding.refresh_from_db()
    assert finding.status == "answered" and finding.answer == "상담"
    bad = officer.post("/casework/oversight/reviews/", {"month": "다음 달"})
    assert bad.status_code == 400 and "form-hint-invalid" in bad.content.decode()


def test_the_officers_desk(world, logged, month):
    review = reviews.build_review(world.province, month)
    finding = kinds_of(review)[("after_hours", "coordinator")]
    reviews.ask(finding, by=world["privacy"], question="사유를 알려 주세요.")
    officer = web(world["privacy"])
    home = officer.get("/").content.decode()
    assert "/casework/oversight/" in home
    desk = officer.get("/casework/oversight/")
    assert desk.status_code == 200
    text = desk.content.decode()
    assert str(world["coordinator"]) in text and "답변 기다림" in text
    assert "다음 파기" in text
    assert web(world["coordinator"]).get("/casework/oversight/").status_code == 403
    assert "/casework/oversight/" not in web(world["coordinator"]).get("/").content.decode()
