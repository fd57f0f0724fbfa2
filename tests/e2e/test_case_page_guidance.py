"""The case page guides its user, in Korean: a refused form keeps what was typed and says why
beside the field, a saved note is confirmed, and the next step is a checklist that leads to the
meeting that decides."""

import pytest

from casework.workflows import intake, lifecycle
from tests.factories import StudentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reviewing(world):
    student = StudentFactory(school=world.school, name="문가을")
    case = intake.open_case(by=world["coordinator"], student=student, difficulties=["economic"])
    return lifecycle.transition_case(case, by=world["coordinator"], to="reviewing")


def test_the_case_page_keeps_input_confirms_and_guides(
    transactional_db, world, reviewing, live_server, sign_in_as
):
    page = sign_in_as("coordinator")
    page.goto(f"{live_server.url}/casework/cases/{reviewing.pk}/")

    # The next step: the meeting's decision is missing, and the way there is a link.
    step = page.locator("#next-step")
    assert "회의의 선정 결정" in step.inner_text()
    assert step.get_by_role("button", name="선정 단계로").count() == 0

    # A guardian's consent without the guardian's name comes back as typed.
    page.locator("#consent-form summary").click()
    form = page.locator("#consent-form form")
    form.get_by_label("동의 주체").select_option("guardian")
    form.get_by_label("관계", exact=True).fill("고모")
    form.locator("label", has_text="협력기관 정보 제공").click()
    form.get_by_label("동의 방법").select_option("written")
    form.get_by_role("button", name="동의 기록").click()
    page.wait_for_load_state("networkidle")
    name = page.locator("#id_guardian_name")
    assert name.get_attribute("aria-invalid") == "true"
    error = page.locator("#id_guardian_name_error")
    assert error.inner_text() == "보호자의 이름과 관계를 적어 주세요."
    assert error.is_visible()  # the form is open, the error beside its field
    assert page.get_by_label("관계", exact=True).input_value() == "고모"
    assert page.locator("#consent-form input[value='share_with_partners']").is_checked()
    assert page.evaluate("location.hash") == "#consent-form"

    # A note saves, and says so.
    notes = page.locator("#note-form")
    notes.get_by_label("내용").fill("보호자와 통화함")
    notes.get_by_role("button", name="기록 추가").click()
    page.get_by_text("기록을 추가했습니다.").wait_for()

    page.get_by_role("link", name="회의에서 선정 결정 기록하기").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_label("결정할 사례").input_value() == str(reviewing.pk)
