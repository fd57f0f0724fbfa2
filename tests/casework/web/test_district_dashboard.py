"""The district centre's dashboard: what waits for a decision, what is overdue, what the office
leads and what it referred on."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, Referral
from casework.workflows import intake
from casework.workflows import referrals as wf
from tests.builders import NON_SENSITIVE, consent, escalation, office_consents, service_referral
from tests.factories import AgreementFactory, ServiceFactory, StudentFactory

pytestmark = pytest.mark.django_db


def escalated_case(world, name):
    case = intake.open_case(
        by=world["coordinator"],
        student=StudentFactory(school=world.school, name=name),
        difficulties=["psychological"],
    )
    office_consents(world, case)
    return case, wf.send_referral(escalation(world, case), by=world["coordinator"])


def test_dashboard_counts_decisions_overdue_and_led_cases(client, world):
    _case, waiting = escalated_case(world, "가온")
    _case, late = escalated_case(world, "나래")
    Referral.objects.filter(pk=late.pk).update(respond_by=timezone.localdate() - timedelta(days=2))
    led_case, accepted = escalated_case(world, "다솜")
    wf.accept_referral(accepted, by=world["centrehead"], reasons="학교 차원을 넘는 지원 필요")
    # The office refers its case onward to a partner.
    led_case.refresh_from_db()
    AgreementFactory(office=world.province, partner=world.partner_org, allowed_fields=NON_SENSITIVE)
    world.service = ServiceFactory(organization=world.partner_org)
    consent(world, led_case, "student")
    consent(world, led_case, "guardian")
    service_referral(world, led_case)  # the school's own draft: not the office's
    draft = wf.create_referral(
        led_case,
        by=world["casemanager"],
        kind="service",
        to_organization=world.partner_org,
        service=world.service,
        reason="지역 상담 연계",
        shared_fields=["student_name", "grade", "reason"],
    )
    wf.send_referral(draft, by=world["casemanager"])

    client.force_login(world["centrehead"])
    answer = client.get(reverse("casework:district_dashboard"))
    assert answer.status_code == 200
    context = answer.context
    assert context["office"] == world.nambu
    assert context["awaiting"] == 2 and context["overdue"] == 1
    assert {s.value: n for s, n in context["escalations"]}["accepted"] == 1
    assert context["open_led"] == 1
    # the office's own onward referral counts; the school's draft for the same case does not
    onward = {s.value: n for s, n in context["onward"]}
    assert context["onward_open"] == 1 and onward["sent"] == 1 and onward["draft"] == 0
    assert [row["owner__name"] for row in context["by_school"]] == [world.school.name]
    assert [row["n"] for row in context["by_school"]] == ["<5"]  # across schools: suppressed
    assert [r.pk for r in context["waiting"]] == [late.pk, waiting.pk]  # the oldest deadline first
    assert led_case.pk not in {r.case_id for r in context["waiting"]}

    client.force_login(world["coordinator"])  # a school's staff have no dashboard
    assert client.get(reverse("casework:district_dashboard")).status_code == 403


def test_each_figure_shows_once_under_its_own_label(client, world):
    """결정 대기, 진행 중인 사례, 기한 지남, 이번 달 종결: one card each, no card broken into
    the statuses of another (an accepted or declined escalation no longer waits)."""
    _case, late = escalated_case(world, "가온")
    Referral.objects.filter(pk=late.pk).update(respond_by=timezone.localdate() - timedelta(days=2))
    _led, accepted = escalated_case(world, "나래")
    wf.accept_referral(accepted, by=world["centrehead"], reasons="학교 차원을 넘는 지원 필요")
    closed_case, closed = escalated_case(world, "다솜")
    wf.accept_referral(closed, by=world["centrehead"], reasons="통합 지원 필요")
    Case.objects.filter(pk=closed_case.pk).update(
        status="closed", closure_reason="goals_met", closed_on=timezone.localdate()
    )
    _case, declined = escalated_case(world, "라온")
    wf.decline_referral(declined, by=world["centrehead"], reason="학교 지원으로 충분")

    client.force_login(world["centrehead"])
    answer = client.get(reverse("casework:district_dashboard"))
    assert answer.context["closed_this_month"] == 1
    page = answer.content.decode()
    start = page.index('id="district-figures"')
    cards = page[start : page.index("</div>\n</div>", start)]
    figures = re.findall(r"<h2>(.*?)</h2>\s*<p><strong>(\d+)</strong>", cards)
    assert figures == [
        ("결정 대기", "1"),
        ("진행 중인 사례", "1"),
        ("기한 지남", "1"),
        ("이번 달 종결", "1"),
        ("협력기관에 보낸 의뢰", "0"),
    ]
    assert "수락" not in cards and "거절" not in cards
