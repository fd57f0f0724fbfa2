"""The referral form in the browser, in Korean: the coordinator of a case without the guardian's
consent types a referral, keeps it as a draft, reads at the send step exactly which consent is
missing, records it there and sends; the directory names the borough and lists each
organisation once; the partner reads the guardian warning and writes a 수락 메모."""

import pytest

from casework.models import Guardian, Referral
from casework.workflows import intake
from tests.builders import NON_SENSITIVE, consent
from tests.factories import AgreementFactory, ServiceFactory, StudentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def half_consented_case(world):
    """이바람's case: the student consented to share with partners, the guardian not yet; the
    roster's guardian is 이아버지. The youth counselling centre's service is listed for 금천구."""
    AgreementFactory(office=world.province, partner=world.partner_org, allowed_fields=NON_SENSITIVE)
    service = ServiceFactory(
        organization=world.partner_org, name="청소년 개인상담", domains=["counselling"]
    )
    service.boroughs.add(world.borough)
    student = StudentFactory(school=world.school, name="이바람", home_borough=world.borough)
    Guardian.objects.create(student=student, name="이아버지", relation="부", phone="010-0000-1111")
    case = intake.open_case(
        by=world["coordinator"], student=student, difficulties=["psychological"]
    )
    consent(world, case, "student")
    return case


def test_draft_without_consent_then_consent_recorded_in_place_and_sent(
    transactional_db, world, half_consented_case, live_server, sign_in_as
):
    coordinator = sign_in_as("coordinator")
    coordinator.goto(f"{live_server.url}/casework/cases/{half_consented_case.pk}/")
    coordinator.get_by_role("link", name="협력기관에 의뢰하기").click()
    directory = coordinator.locator("#directory")
    assert "학생이 사는 금천구에서" in directory.inner_text()
    assert "11545" not in directory.inner_text()
    for org in (world.partner_org.name, world.other_partner_org.name):
        assert directory.locator("legend", has_text=org).count() == 1
    search = coordinator.get_by_label("기관·서비스 찾기")
    search.fill("정신건강")
    groups = directory.locator("fieldset[data-directory-group]")
    assert not groups.filter(has_text=world.partner_org.name).is_visible()
    assert groups.filter(has_text=world.other_partner_org.name).is_visible()
    search.fill("")
    coordinator.locator("label", has_text="청소년 개인상담").click()
    status = coordinator.locator("#consent-status")
    status.get_by_text("보호자 동의가 없습니다.").wait_for()
    coordinator.locator("#id_reason").fill("등교를 힘들어해 상담이 필요합니다.")
    status.get_by_role("button", name="임시 저장하고 동의 기록하기").click()
    coordinator.get_by_text("의뢰를 임시 저장했습니다").wait_for()
    referral = Referral.objects.get()
    assert referral.status == "draft" and referral.reason == "등교를 힘들어해 상담이 필요합니다."
    send = coordinator.locator("#send")
    assert "보호자 동의가 없습니다." in send.inner_text()
    record = coordinator.locator("#consent-record")
    record.get_by_label("동의 주체").select_option(label="보호자")
    record.get_by_label("보호자 이름").fill("김엄마")
    record.get_by_label("관계", exact=True).fill("모")
    record.get_by_label("동의 방법").select_option(label="서면")
    record.get_by_role("button", name="동의 기록", exact=True).click()
    coordinator.get_by_text("보호자 동의를 기록했습니다").wait_for()
    assert "보호자 동의가 없습니다." not in coordinator.locator("main").inner_text()
    coordinator.locator("#send").get_by_role("button", name="보내기").click()
    coordinator.get_by_text("의뢰 상태: 발송").wait_for()
    referral.refresh_from_db()
    assert referral.status == "sent"

    partner = sign_in_as("partner")
    partner.goto(f"{live_server.url}/casework/referrals/{referral.pk}/")
    warning = partner.locator(".ieum-warning")
    assert "김엄마(모)" in warning.inner_text() and "이아버지(부)" in warning.inner_text()
    partner.get_by_label("수락 메모 (선택)").fill("다음 주 화요일 첫 상담")
    partner.get_by_role("button", name="수락", exact=True).click()
    partner.get_by_text("의뢰 상태: 수락").wait_for()
    main = partner.locator("main").inner_text()
    assert "수락 메모: 다음 주 화요일 첫 상담" in main and "결정 사유" not in main
