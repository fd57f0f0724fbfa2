"""Access in the browser, in Korean, where a user could meet the holes found in review: a lead
office's case manager cannot make themself a counsellor to read restricted notes; a teacher who
attended nothing reads no minutes; a coordinator is warned before security training lapses, and
once it has lapsed the case answers 404 and the home page says why. Desktop and mobile widths."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework import access
from casework.models import CaseParticipant
from casework.workflows import lifecycle, records
from partners.models import Membership
from tests.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def escalated_case(world):
    case = CaseFactory(owner=world.school, lead=world.nambu)
    CaseParticipant.objects.create(case=case, organization=world.school, role="owner")
    CaseParticipant.objects.create(case=case, organization=world.nambu, role="lead")
    access.grant_case_to_owner_school(case)
    access.grant_case_to_lead_office(case, world.nambu)
    records.add_note(
        case,
        by=world["coordinator"],
        kind="counselling",
        body="보호자 면담: 가정 내 갈등",
        confidentiality="restricted",
    )
    return case


def test_case_manager_cannot_join_as_counsellor(world, escalated_case, sign_in_as, live_server):
    page = sign_in_as("casemanager")
    page.goto(f"{live_server.url}/casework/cases/{escalated_case.pk}/")
    assert "가정 내 갈등" not in page.content()
    team = page.locator("form[action*='/do/team_add/']")
    team.get_by_label("사람").select_option(str(world["casemanager"].pk))
    team.get_by_label("팀 역할").select_option("counsellor")
    team.get_by_role("button", name="팀원 추가").click()
    page.wait_for_load_state("networkidle")
    assert "소속에 맞지 않는 팀 역할" in page.content()
    assert "가정 내 갈등" not in page.content()


def test_teacher_reads_no_minutes_of_meetings_they_did_not_attend(world, sign_in_as, live_server):
    lifecycle.record_meeting(
        by=world["coordinator"],
        organization=world.school,
        kind="school_team",
        held_on=timezone.localdate(),
        attendees=[world["coordinator"]],
        guests=[],
        minutes="학생의 가정 형편 논의",
        decisions=[],
    )
    page = sign_in_as("teacher")
    page.goto(f"{live_server.url}/casework/meetings/")
    assert "가정 형편" not in page.content()
    vice = sign_in_as("vice")
    vice.goto(f"{live_server.url}/casework/meetings/")
    assert "가정 형편" in vice.content()


@pytest.mark.parametrize("width", [1280, 375])
def test_training_warning_then_lapse(world, browser, live_server, width):
    from tests.factories import PASSWORD

    case = CaseFactory(owner=world.school)
    access.grant_case_to_owner_school(case)
    membership = Membership.objects.get(user=world["coordinator"])
    membership.training_completed_on = timezone.localdate() - timedelta(days=355)
    membership.save()
    context = browser.new_context(locale="ko-KR", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("아이디").fill("coordinator")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state("networkidle")
    alert = page.locator("#training-alerts")
    assert alert.is_visible()
    assert "10일 남음" in alert.inner_text()
    assert page.goto(f"{live_server.url}/casework/cases/{case.pk}/").status == 200

    membership.training_completed_on = timezone.localdate() - timedelta(days=400)
    membership.save()
    assert page.goto(f"{live_server.url}/casework/cases/{case.pk}/").status == 404
    page.goto(f"{live_server.url}/")
    assert page.locator("#training-lapsed").is_visible()
    assert "보안 교육 필요" in page.content()
    context.close()
