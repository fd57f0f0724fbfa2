"""The school journey in the browser, in Korean: a teacher raises a concern; the coordinator
opens the case, has it selected, records both consents and a plan; the principal approves;
the case becomes active."""

from pathlib import Path

import pytest

from casework.models import Case
from tests.factories import StudentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "test-results"


def test_concern_to_active_case(transactional_db, world, live_server, browser, sign_in_as):
    StudentFactory(school=world.school, name="오하람", grade=4, class_no=2)

    teacher = sign_in_as("teacher")
    teacher.goto(f"{live_server.url}/casework/concerns/new/")
    teacher.evaluate(
        "() => document.body.addEventListener('htmx:afterSettle', () => { window.settled = true }, {once: true})"
    )
    teacher.get_by_label("이름").fill("하람")  # htmx narrows the roster as she types
    teacher.wait_for_function("() => window.settled === true")
    # KRDS draws each box on its label, which is what a person clicks.
    teacher.locator("label", has_text="오하람").click()
    teacher.locator("label", has_text="심리·정서").click()
    teacher.get_by_label("관찰한 내용").fill("쉬는 시간에 혼자 있고 자주 운다")
    teacher.get_by_role("button", name="지원 요청 보내기").click()
    teacher.get_by_text("오하람 학생에 대한 지원 요청을 보냈습니다.").wait_for()

    coordinator = sign_in_as("coordinator")
    coordinator.goto(f"{live_server.url}/casework/")
    assert "오하람" in coordinator.locator("main").inner_text()
    coordinator.goto(f"{live_server.url}/casework/concerns/")
    coordinator.get_by_role("button", name="사례 개설하기").click()
    coordinator.get_by_text("사례를 개설했습니다").wait_for()
    case = Case.objects.get(student__name="오하람")
    case_url = f"{live_server.url}/casework/cases/{case.pk}/"
    coordinator.get_by_role("button", name="검토 중 단계로").click()
    coordinator.get_by_text("상태를 바꿨습니다").wait_for()

    # The checklist of the next step leads to the meeting, with the case and "select" chosen.
    coordinator.get_by_role("link", name="회의에서 선정 결정 기록하기").click()
    assert coordinator.get_by_label("결정할 사례").input_value() == str(case.pk)
    assert coordinator.get_by_label("결정", exact=True).input_value() == "select"
    coordinator.get_by_label("결정 사유").fill("담임 관찰과 상담 결과 정서 지원이 필요함")
    coordinator.get_by_role("button", name="회의 저장").click()
    coordinator.get_by_text("회의를 기록했습니다.").wait_for()

    coordinator.goto(case_url)
    consent = coordinator.locator("#consent-form form")
    # Each missing consent is a line of the checklist that opens the form for that person.
    for link, guardian in (
        ("학생 동의 기록하기", None),
        ("보호자 동의 기록하기", ("오보호", "모")),
    ):
        coordinator.get_by_role("link", name=link).click()
        if guardian:
            consent.get_by_label("보호자 이름").fill(guardian[0])
            consent.get_by_label("관계", exact=True).fill(guardian[1])
        consent.get_by_label("동의 방법").select_option("written")
        consent.get_by_role("button", name="동의 기록").click()
        coordinator.get_by_text("동의를 기록했습니다.").wait_for()
    coordinator.get_by_text("새 계획 작성").click()
    plan = coordinator.locator("form[action*='/do/plan/']")
    plan.get_by_label("목표 (한 줄에 하나)").fill("주 1회 상담으로 정서 안정")
    plan.get_by_label("점검일").fill("2027-01-15")
    plan.get_by_role("button", name="계획 저장").click()
    coordinator.get_by_text("1차 지원 계획을 저장했습니다.").wait_for()
    assert coordinator.get_by_role("button", name="지원 중 단계로").count() == 0
    coordinator.get_by_role("button", name="교장 승인 요청").click()
    coordinator.get_by_text("교장 승인을 요청했습니다").wait_for()

    principal = sign_in_as("principal")
    principal.goto(f"{live_server.url}/casework/approvals/")
    principal.get_by_role("button", name="승인", exact=True).click()
    principal.get_by_text("지원 계획을 승인했습니다").wait_for()

    coordinator.goto(case_url)
    coordinator.get_by_role("button", name="지원 중 단계로").click()
    coordinator.get_by_text("상태를 바꿨습니다: 지원 중").wait_for()
    SHOTS.mkdir(exist_ok=True)
    coordinator.screenshot(path=str(SHOTS / "case-active.png"), full_page=True)
    case.refresh_from_db()
    assert case.status == "active"
