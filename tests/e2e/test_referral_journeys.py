"""Referral journeys in the browser, in Korean: (1) the school escalates to the district centre
— the form says the consents on file do not cover the office, the coordinator records them on
the case page — and the centre head decides with reasons; (2) the coordinator refers to a partner, previews the
packet and sends; the partner accepts, starts and completes with an outcome, which the
coordinator then sees on the case page."""

from pathlib import Path

import pytest

from casework.models import Case, Referral
from casework.workflows import intake, lifecycle
from tests.builders import NON_SENSITIVE, consent
from tests.factories import AgreementFactory, ServiceFactory, StudentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture
def reviewing_case(world):
    """한결's case under review, with both consents to share with partners, and the youth
    counselling centre's service listed for 금천구 under an agreement."""
    AgreementFactory(office=world.province, partner=world.partner_org, allowed_fields=NON_SENSITIVE)
    service = ServiceFactory(
        organization=world.partner_org, name="청소년 개인상담", domains=["counselling"]
    )
    service.boroughs.add(world.borough)
    student = StudentFactory(school=world.school, name="한결", home_borough=world.borough)
    case = intake.open_case(
        by=world["coordinator"], student=student, difficulties=["psychological"]
    )
    lifecycle.transition_case(case, by=world["coordinator"], to="reviewing")
    consent(world, case, "student")
    consent(world, case, "guardian")
    case.refresh_from_db()
    return case


def record_office_consent(page, subject, guardian=None):
    """The case page's consent form: a consent that covers sharing with the district office."""
    consents = page.locator("#consents")
    consents.locator("summary", has_text="동의 기록하기").click()
    consents.get_by_label("동의 주체").select_option(label=subject)
    if guardian:
        consents.get_by_label("보호자 이름").fill(guardian[0])
        consents.get_by_label("관계", exact=True).fill(guardian[1])
    consents.locator("label", has_text="교육지원청 정보 제공").click()
    consents.get_by_label("동의 방법").select_option(label="서면")
    consents.get_by_role("button", name="동의 기록", exact=True).click()
    page.wait_for_load_state("networkidle")


def test_escalation_and_decision(transactional_db, world, reviewing_case, live_server, sign_in_as):
    coordinator = sign_in_as("coordinator")
    coordinator.goto(f"{live_server.url}/casework/cases/{reviewing_case.pk}/")
    coordinator.get_by_role("link", name="교육지원청에 지원 요청").click()
    assert coordinator.locator("#id_kind_1").is_checked()  # the escalation is preselected
    # The consents on file cover partners only; the form says what is missing and where to go.
    status = coordinator.locator("#consent-status")
    assert "'교육지원청 정보 제공' 목적이 담긴 동의가 더 필요합니다" in status.inner_text()
    status.get_by_role("link", name="사례 화면에서 동의 기록하기").click()
    coordinator.wait_for_load_state("networkidle")
    record_office_consent(coordinator, "학생")
    record_office_consent(coordinator, "보호자", guardian=("한보호", "모"))
    coordinator.get_by_role("link", name="교육지원청에 지원 요청").click()
    assert "근거 동의" in coordinator.locator("#consent-status").inner_text()
    coordinator.locator("#id_reason").fill("정서 위기가 깊어 학교 지원만으로는 부족합니다.")
    coordinator.get_by_role("button", name="미리 보기").click()
    coordinator.get_by_text("받는 기관이 보게 될 내용").wait_for()
    assert "서울특별시남부교육지원청" in coordinator.locator("#preview").inner_text()
    coordinator.get_by_role("button", name="보내기").click()
    coordinator.get_by_text("의뢰를 보냈습니다").wait_for()
    referral = Referral.objects.get(kind="escalation")

    centre = sign_in_as("centrehead")
    centre.goto(f"{live_server.url}/casework/referrals/")
    centre.get_by_role("link", name=referral.number).click()
    assert "한결" in centre.locator("main").inner_text()  # the packet
    centre.get_by_label("결정 사유").fill("위기 수준이 높아 교육지원청이 주관합니다.")
    centre.get_by_role("button", name="지원 결정(수락)").click()
    centre.get_by_text("의뢰 상태: 수락").wait_for()
    SHOTS.mkdir(exist_ok=True)
    centre.screenshot(path=str(SHOTS / "escalation-decided.png"), full_page=True)
    reviewing_case = Case.objects.get(pk=reviewing_case.pk)
    assert reviewing_case.lead == world.nambu and reviewing_case.status == "selected"
    referral.refresh_from_db()
    assert "share_with_office" in referral.consent.purposes

    coordinator.goto(f"{live_server.url}/casework/notifications/")
    assert "의뢰를 수락했습니다" in coordinator.locator("main").inner_text()


def test_partner_referral_completed_with_outcome(
    transactional_db, world, reviewing_case, live_server, sign_in_as
):
    coordinator = sign_in_as("coordinator")
    coordinator.goto(f"{live_server.url}/casework/cases/{reviewing_case.pk}/")
    coordinator.get_by_role("link", name="협력기관에 의뢰하기").click()
    coordinator.locator("label", has_text="청소년 개인상담").click()
    coordinator.locator("#id_reason").fill("또래 갈등 뒤 등교를 힘들어합니다.")
    coordinator.get_by_role("button", name="미리 보기").click()
    preview = coordinator.locator("#preview")
    preview.wait_for()
    assert "한결" in preview.inner_text() and "금천구청소년상담복지센터" in preview.inner_text()
    coordinator.get_by_role("button", name="보내기").click()
    coordinator.get_by_text("의뢰를 보냈습니다").wait_for()
    referral = Referral.objects.get(kind="service")
    assert referral.status == "sent"

    partner = sign_in_as("partner")
    partner.goto(f"{live_server.url}/casework/referrals/")
    partner.get_by_role("link", name=referral.number).click()
    partner.get_by_role("button", name="수락", exact=True).click()
    partner.get_by_text("의뢰 상태: 수락").wait_for()
    partner.get_by_role("button", name="지원 시작").click()
    partner.get_by_text("의뢰 상태: 진행 중").wait_for()
    partner.get_by_label("결과 (보낸 기관에 전달됩니다)").fill(
        "6회 상담 후 교우 관계가 좋아졌습니다."
    )
    partner.get_by_role("button", name="완료").click()
    partner.get_by_text("의뢰 상태: 완료").wait_for()

    coordinator.goto(f"{live_server.url}/casework/cases/{reviewing_case.pk}/")
    referrals = coordinator.locator("#referrals").inner_text()
    assert "6회 상담 후 교우 관계가 좋아졌습니다." in referrals and "결과 도착" in referrals
    SHOTS.mkdir(exist_ok=True)
    coordinator.screenshot(path=str(SHOTS / "referral-outcome.png"), full_page=True)
