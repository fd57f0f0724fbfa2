"""The principal's approvals page shows what an approval rests on: the case and student, the risk
level and difficulties, the plan's goals, interventions and dates, and the consents; returning a
plan without a reason says so beside the field."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.models import SupportPlan
from casework.workflows import consents, intake, planning
from tests.builders import consent, select_case
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db


def submitted_plan(world, name, *, risk_level="crisis"):
    case = intake.open_case(
        by=world["coordinator"],
        student=StudentFactory(school=world.school, name=name),
        difficulties=["psychological", "economic"],
        risk_level=risk_level,
    )
    case = select_case(world, case)
    consent(world, case, "student")
    guardian = consent(world, case, "guardian", purposes=("support",))
    consents.withdraw_consent(guardian, by=world["coordinator"], reason="보호자 요청")
    today = timezone.localdate()
    plan = planning.create_plan(
        case,
        by=world["coordinator"],
        goals=["정서 안정", "등교 유지"],
        starts_on=today,
        ends_on=today + timedelta(days=90),
        review_on=today + timedelta(days=30),
    )
    planning.add_intervention(
        plan,
        by=world["coordinator"],
        domain="counselling",
        support_type="counselling",
        frequency="주 1회",
    )
    return planning.submit_plan(plan, by=world["coordinator"])


def test_each_plan_shows_its_case_risk_consents_and_plan(client, world):
    plan = submitted_plan(world, "오하람")
    client.force_login(world["principal"])
    page = client.get(reverse("casework:approvals")).content.decode()
    assert reverse("casework:case_detail", args=[plan.case_id]) in page
    assert plan.case.number in page and "오하람" in page
    assert "위기 수준: 위기" in page
    assert "심리·정서" in page and "경제적 어려움" in page
    assert "정서 안정" in page and "등교 유지" in page and "주 1회" in page
    # the consents: the student's valid, the guardian's withdrawn, with their purposes
    assert "학생" in page and "보호자" in page and "김보호" in page
    assert "유효" in page and "철회됨" in page
    assert "지원 제공, 협력기관 정보 제공" in page


def test_the_page_costs_the_same_queries_for_one_plan_or_three(client, world):
    submitted_plan(world, "가온")
    client.force_login(world["principal"])
    client.get(reverse("casework:approvals"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("casework:approvals"))
    submitted_plan(world, "나래")
    submitted_plan(world, "다솜")
    with CaptureQueriesContext(connection) as three:
        answer = client.get(reverse("casework:approvals"))
    assert len(answer.context["plans"]) == 3
    assert len(three.captured_queries) == len(one.captured_queries)


def test_returning_without_a_reason_shows_the_error_beside_the_field(client, world):
    plan = submitted_plan(world, "오하람")
    client.force_login(world["principal"])
    answer = client.post(reverse("casework:plan_decide", args=[plan.pk, "return"]), {"reason": ""})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert f'id="reason-{plan.pk}-error"' in page and "form-hint-invalid" in page
    assert "돌려보내는 사유를 적어 주세요." in page
    plan.refresh_from_db()
    assert plan.status == SupportPlan.Status.SUBMITTED


def test_approve_and_return_with_a_reason(client, world):
    first, second = submitted_plan(world, "가온"), submitted_plan(world, "나래")
    client.force_login(world["principal"])
    url = reverse("casework:plan_decide", args=[first.pk, "approve"])
    assert client.post(url, {"version": first.version}).status_code == 302
    url = reverse("casework:plan_decide", args=[second.pk, "return"])
    assert client.post(url, {"reason": "목표를 구체적으로"}).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == SupportPlan.Status.APPROVED
    assert second.status == SupportPlan.Status.DRAFT
