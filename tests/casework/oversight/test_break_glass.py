"""Break-glass (긴급 열람, DESIGN.md §5 and §9): the privacy officer above the case's school, or
the centre head of its district office, opens one case outside their grants with a written
reason. For BREAK_GLASS_HOURS the case reads 200 for them — view only, restricted notes never —
every read is logged as break_glass, the school's coordinator is told, and every page of the
case says so."""

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from casework import access
from casework.models import AccessEvent, BreakGlass, Note, Notification
from casework.workflows import break_glass, records, referrals
from partners.choices import Role
from tests import factories

pytestmark = pytest.mark.django_db
REASON = "학생 안전 확인이 급함: 담임 연락 두절"


def api(world, username) -> APIClient:
    client = APIClient()
    client.force_authenticate(world[username])
    return client


def web(world, username) -> Client:
    client = Client()
    client.force_login(world[username])
    return client


def open_over_api(world, case, username="privacy", reason=REASON):
    return api(world, username).post(
        f"/api/v1/cases/{case.pk}/break-glass/", {"reason": reason}, format="json"
    )


@pytest.fixture
def held(world, opened_case):
    """정다온's case with a team note and a restricted note."""
    records.add_note(opened_case, by=world["coordinator"], kind="observation", body="수업 중 졸음")
    opened_case.restricted = records.add_note(
        opened_case,
        by=world["coordinator"],
        kind="counselling",
        body="비공개 상담 내용",
        confidentiality=Note.Confidentiality.RESTRICTED,
    )
    return opened_case


def case_pages(case) -> list[str]:
    return [
        f"/casework/cases/{case.pk}/",
        f"/casework/cases/{case.pk}/plans/",
        f"/casework/cases/{case.pk}/timeline/",
    ]


def test_before_opening_the_case_is_not_found(world, held):
    for path in case_pages(held):
        assert web(world, "privacy").get(path).status_code == 404, path
    assert api(world, "privacy").get(f"/api/v1/cases/{held.pk}/").status_code == 404


def test_opening_answers_201_and_then_the_case_reads_200(world, held):
    answer = open_over_api(world, held)
    assert answer.status_code == 201
    body = answer.json()
    assert body["case"] == str(held.pk)
    opening = BreakGlass.objects.get()
    assert opening.user == world["privacy"] and opening.reason == REASON
    assert opening.membership.organization == world.province
    assert abs(opening.expires_at - timezone.now() - timedelta(hours=4)) < timedelta(minutes=1)
    for path in case_pages(held):
        assert web(world, "privacy").get(path).status_code == 200, path
    assert api(world, "privacy").get(f"/api/v1/cases/{held.pk}/").status_code == 200
    student = web(world, "privacy").get(f"/casework/students/{held.student_id}/")
    assert student.status_code == 200 and "정다온" in student.content.decode()


def test_the_opening_gives_view_case_and_nothing_more(world, held):
    break_glass.open_break_glass(held, by=world["privacy"], reason=REASON)
    officer = world["privacy"]
    assert access.AccessChecker(officer).perms(held) == {access.VIEW_CASE}
    for perm in (
        access.CHANGE_CASE,
        access.MANAGE_CASE,
        access.VIEW_RESTRICTED_NOTES,
        access.APPROVE_PLAN,
    ):
        assert not access.has_case_perm(officer, perm, held), perm
    page = web(world, "privacy").get(f"/casework/cases/{held.pk}/").content.decode()
    assert 'action="/casework/cases/' not in page or "do/note" not in page
    answer = api(world, "privacy").post(
        f"/api/v1/cases/{held.pk}/notes/", {"kind": "call", "body": "x"}, format="json"
    )
    assert answer.status_code == 403


def test_restricted_notes_are_never_shown(world, held):
    open_over_api(world, held)
    restricted = held.restricted
    page = web(world, "privacy").get(f"/casework/cases/{held.pk}/").content.decode()
    assert "수업 중 졸음" in page and "비공개 상담 내용" not in page
    notes = api(world, "privacy").get(f"/api/v1/cases/{held.pk}/notes/").json()
    rows = notes["results"] if isinstance(notes, dict) else notes
    assert {n["body"] for n in rows} == {"수업 중 졸음"}
    for path in (f"/api/v1/cases/{held.pk}/timeline/", f"/casework/cases/{held.pk}/timeline/"):
        text = (
            api(world, "privacy").get(path)
            if path.startswith("/api")
            else web(world, "privacy").get(path)
        ).content.decode()
        assert "비공개 상담 내용" not in text and str(restricted.pk) not in text, path
    assert restricted.pk in access.hidden_note_ids(world["privacy"], held)


def test_it_expires_after_break_glass_hours(world, held, settings):
    settings.BREAK_GLASS_HOURS = 1
    open_over_api(world, held)
    assert web(world, "privacy").get(f"/casework/cases/{held.pk}/").status_code == 200
    later = timezone.now() + timedelta(hours=1, minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert web(world, "privacy").get(f"/casework/cases/{held.pk}/").status_code == 404
        assert api(world, "privacy").get(f"/api/v1/cases/{held.pk}/").status_code == 404
        assert not access.visible_cases(world["privacy"]).filter(pk=held.pk).exists()


def test_ending_it_early_closes_the_case_again(world, held):
    opening, _created = break_glass.open_break_glass(held, by=world["privacy"], reason=REASON)
    answer = web(world, "privacy").post(f"/casework/oversight/break-glass/{opening.pk}/end/")
    assert answer.status_code == 302
    assert web(world, "privacy").get(f"/casework/cases/{held.pk}/").status_code == 404
    opening.refresh_from_db()
    assert opening.ended_at is not None
    assert opening.history.first().history_change_reason == "긴급 열람 종료"
    # Someone else's opening is not theirs to end.
    other, _created = break_glass.open_break_glass(held, by=world["centrehead"], reason=REASON)
    assert (
        web(world, "privacy").post(f"/casework/oversight/break-glass/{other.pk}/end/").status_code
        == 404
    )


def test_the_school_coordinator_is_notified(world, held):
    open_over_api(world, held)
    notice = Notification.objects.get(recipient=world["coordinator"], kind="break_glass_opened")
    assert held.number in notice.display_title and "서울특별시교육청" in notice.display_title
    assert notice.body == REASON
    assert notice.case == held
    assert not Notification.objects.filter(recipient=world["privacy"]).exists()


def test_the_opening_and_every_read_are_logged_as_break_glass(world, held):
    open_over_api(world, held)
    opened = AccessEvent.objects.get(user=world["privacy"])
    assert opened.action == "break_glass" and opened.reason == REASON and opened.case == held
    mark = opened.id
    web(world, "privacy").get(f"/casework/cases/{held.pk}/")
    web(world, "privacy").get(f"/casework/cases/{held.pk}/timeline/")
    api(world, "privacy").get(f"/api/v1/cases/{held.pk}/")
    api(world, "privacy").get(f"/api/v1/cases/{held.pk}/notes/")
    web(world, "privacy").get(f"/casework/students/{held.student_id}/")
    reads = list(AccessEvent.objects.filter(user=world["privacy"], id__gt=mark))
    assert len(reads) == 5
    assert {e.action for e in reads} == {"break_glass"}
    assert {e.reason for e in reads} == {REASON}
    # The coordinator's own reads stay views.
    web(world, "coordinator").get(f"/casework/cases/{held.pk}/")
    assert AccessEvent.objects.filter(user=world["coordinator"]).latest("id").action == "view"


def test_a_reason_is_required(world, held):
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 2001}):
        answer = api(world, "privacy").post(
            f"/api/v1/cases/{held.pk}/break-glass/", body, format="json"
        )
        assert answer.status_code == 400, body
        assert "사유" in answer.json()["reason"][0]
    assert not BreakGlass.objects.exists()


@pytest.mark.parametrize(
    "username", ["coordinator", "teacher", "casemanager", "casemanager2", "partner", "analyst"]
)
def test_anyone_else_is_told_nothing(world, held, username):
    assert open_over_api(world, held, username).status_code == 404
    assert not BreakGlass.objects.exists()


def test_an_unknown_case_is_not_found(world):
    answer = api(world, "privacy").post(
        "/api/v1/cases/00000000-0000-0000-0000-000000000000/break-glass/",
        {"reason": REASON},
        format="json",
    )
    assert answer.status_code == 404


def test_the_centre_head_of_the_school_district_may(world, held):
    assert open_over_api(world, held, "centrehead").status_code == 201
    assert web(world, "centrehead").get(f"/casework/cases/{held.pk}/").status_code == 200


def test_a_centre_head_of_another_district_cannot(world, held):
    head = factories.UserFactory(username="centrehead2")
    factories.MembershipFactory(user=head, organization=world.bukbu, role=Role.CENTRE_HEAD)
    world.users["centrehead2"] = head
    assert open_over_api(world, held, "centrehead2").status_code == 404
    assert web(world, "centrehead2").get(f"/casework/cases/{held.pk}/").status_code == 404


def test_a_lapsed_membership_ends_the_reading(world, held):
    open_over_api(world, held)
    membership = world["privacy"].memberships.get()
    membership.approval_expires_on = timezone.localdate() - timedelta(days=1)
    membership.save()
    assert web(world, "privacy").get(f"/casework/cases/{held.pk}/").status_code == 404


def test_opening_twice_answers_the_opening_in_force(world, held):
    first = open_over_api(world, held)
    second = open_over_api(world, held, reason="다시")
    assert second.status_code == 200
    assert second.json()["expires_at"] == first.json()["expires_at"]
    assert BreakGlass.objects.count() == 1
    assert Notification.objects.filter(kind="break_glass_opened").count() == 1


def test_someone_who_sees_the_case_needs_no_opening(world, held):
    access.grant_case_to_lead_office(held, world.nambu)
    assert open_over_api(world, held, "centrehead").status_code == 409
    assert not BreakGlass.objects.exists()


def test_the_banner_shows_on_every_page_of_the_case(world, held, net):
    referral = referrals.create_referral(
        held,
        by=world["coordinator"],
        kind="service",
        to_organization=world.partner_org,
        service=world.service,
        reason="상담 연계",
        shared_fields=["student_name", "grade"],
        legal_basis="emergency",
        justification="자해 위험",
    )
    open_over_api(world, held)
    pages = [
        *case_pages(held),
        f"/casework/referrals/{referral.pk}/",
        f"/casework/students/{held.student_id}/",
    ]
    for path in pages:
        answer = web(world, "privacy").get(path)
        assert answer.status_code == 200, path
        text = answer.content.decode()
        assert "긴급 열람 중:" in text and REASON in text, path
    assert "긴급 열람 중:" not in web(world, "coordinator").get(pages[0]).content.decode()
    assert "긴급 열람 중:" not in web(world, "privacy").get("/").content.decode()
