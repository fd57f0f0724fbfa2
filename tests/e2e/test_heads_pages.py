"""The pages of heads and their news, in the browser: the teacher's notifications name the student
and come grouped by case; the principal approves a plan seeing its risk level and consents; the
district dashboard shows each figure once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework.workflows import intake, planning
from casework.workflows import referrals as wf
from tests.builders import consent, escalation, office_consents, select_case
from tests.factories import StudentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def concern_opened(world, name):
    concern = intake.raise_concern(
        by=world["teacher"],
        student=StudentFactory(school=world.school, name=name),
        difficulties=["psychological"],
        description="쉬는 시간에 혼자 있음",
    )
    return intake.triage_concern(concern, by=world["coordinator"], decision="open_case").case


def test_teacher_sees_her_notifications_by_student_and_case(world, live_server, sign_in_as):
    first = concern_opened(world, "오하람")
    second = concern_opened(world, "윤바다")

    teacher = sign_in_as("teacher")
    teacher.goto(f"{live_server.url}/casework/notifications/")
    groups = teacher.locator("section.ieum-notification-group")
    assert groups.count() == 2
    # the case heard of last comes first, headed by its number and student
    assert second.number in groups.nth(0).locator("h2").inner_text()
    assert "윤바다" in groups.nth(0).locator("h2").inner_text()
    assert first.number in groups.nth(1).locator("h2").inner_text()
    text = groups.nth(1).inner_text()
    assert f"오하람 학생({first.number}) 지원 요청 검토 결과: 사례 개설" in text
    assert "새 알림" in text
    teacher.get_by_role("button", name="모두 읽음으로 표시").click()
    teacher.wait_for_load_state("networkidle")
    assert "새 알림" not in teacher.locator("main").inner_text()


def test_principal_approves_seeing_risk_level_and_consents(world, live_server, sign_in_as):
    case = intake.open_case(
        by=world["coordinator"],
        student=StudentFactory(school=world.school, name="한결"),
        difficulties=["psychological"],
        risk_level="crisis",
    )
    case = select_case(world, case)
    consent(world, case, "student")
    consent(world, case, "guardian")
    today = timezone.localdate()
    plan = planning.create_plan(
        case,
        by=world["coordinator"],
        goals=["정서 안정"],
        starts_on=today,
        review_on=today + timedelta(days=30),
    )
    planning.submit_plan(plan, by=world["coordinator"])

    principal = sign_in_as("principal")
    principal.goto(f"{live_server.url}/casework/approvals/")
    card = principal.locator(f"#plan-{plan.pk}")
    text = card.inner_text()
    assert case.number in text and "한결" in text
    assert "위기 수준: 위기" in text
    consents = card.locator("table.plan-consents tbody tr")
    assert consents.count() == 2
    assert "유효" in consents.nth(0).inner_text() and "지원 제공" in consents.nth(0).inner_text()
    card.get_by_role("button", name="반려").click()  # no reason: the browser asks for one
    assert principal.url.endswith("/casework/approvals/")
    card.get_by_role("button", name="승인").click()
    principal.get_by_text(f"{case.number} 지원 계획을 승인했습니다.").wait_for()


def test_district_dashboard_shows_each_figure_once(world, live_server, sign_in_as):
    for name in ("가온", "나래"):
        case = intake.open_case(
            by=world["coordinator"],
            student=StudentFactory(school=world.school, name=name),
            difficulties=["psychological"],
        )
        office_consents(world, case)
        referral = wf.send_referral(escalation(world, case), by=world["coordinator"])
    wf.accept_referral(referral, by=world["centrehead"], reasons="통합 지원 필요")

    centre = sign_in_as("centrehead")
    centre.goto(f"{live_server.url}/casework/district/")
    cards = centre.locator("#district-figures .ieum-card")
    labels = [cards.nth(i).locator("h2").inner_text() for i in range(cards.count())]
    assert labels == [
        "결정 대기",
        "진행 중인 사례",
        "기한 지남",
        "이번 달 종결",
        "협력기관에 보낸 의뢰",
    ]
    figures = [cards.nth(i).locator("strong").all_inner_texts() for i in range(cards.count())]
    assert figures == [["1"], ["1"], ["0"], ["0"], ["0"]]  # one figure per card
