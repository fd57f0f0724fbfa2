"""Triage in the browser, with the teacher's words in front of the coordinator: a teacher raises
an urgent concern with what she saw; the coordinator reads it and its urgency in the queue and
the list, opens the concern page and decides there; the teacher, on no case team, is told what
the case list holds and finds her concerns from it."""

import re

import pytest

from casework.models import Concern
from tests.factories import StudentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SAW = "점심시간마다 혼자 운동장 구석에 앉아 있습니다. 준비물을 거의 챙겨 오지 못합니다."
MORE = "어제는 집에 가기 싫다며 교실에 남아 있었습니다."


def test_coordinator_reads_and_triages_on_the_concern_page(
    transactional_db, world, live_server, sign_in_as
):
    StudentFactory(school=world.school, name="서하늘", grade=5, class_no=3)

    teacher = sign_in_as("teacher")
    teacher.goto(f"{live_server.url}/casework/concerns/new/")
    teacher.locator("label", has_text="서하늘").click()
    teacher.locator("label", has_text="심리·정서").click()
    teacher.locator("label", has_text=re.compile(r"^\s*긴급\s*$")).click()
    teacher.get_by_label("관찰한 내용").fill(f"{SAW}\n{MORE}")
    teacher.get_by_role("button", name="지원 요청 보내기").click()
    teacher.get_by_text("서하늘 학생에 대한 지원 요청을 보냈습니다.").wait_for()
    concern = Concern.objects.get(student__name="서하늘")

    coordinator = sign_in_as("coordinator")
    coordinator.goto(f"{live_server.url}/casework/concerns/")
    row = coordinator.locator(f"#concern-{concern.pk}")
    assert SAW[:20] in row.inner_text() and world["teacher"].name in row.inner_text()
    assert row.locator(".krds-badge.bg-danger", has_text="긴급").is_visible()
    coordinator.goto(f"{live_server.url}/casework/")
    card = coordinator.locator(f"#queue-concern-{concern.pk}")
    assert SAW[:20] in card.inner_text() and "심리·정서" in card.inner_text()
    assert card.locator(".krds-badge.bg-danger", has_text="긴급").is_visible()
    card.get_by_role("link", name="검토하기").click()

    coordinator.get_by_text(MORE).wait_for()  # the whole text, on its own line
    coordinator.get_by_role("button", name="지원 불필요로 처리").click()
    reason = coordinator.get_by_label("지원이 필요하지 않은 사유")
    assert reason.get_attribute("aria-invalid") == "true"
    error = coordinator.locator(f"#reason-{concern.pk}-error")
    assert error.inner_text() == "조치하지 않는 사유를 적어 주세요."
    coordinator.get_by_role("button", name="사례 개설하기").click()
    coordinator.get_by_text("사례를 개설했습니다").wait_for()

    teacher.goto(f"{live_server.url}/casework/cases/")
    assert "내가 사례 팀에 참여한 사례만 표시됩니다" in teacher.locator("main").inner_text()
    teacher.get_by_role("link", name="내 지원 요청 보기").click()
    teacher.locator(f"#concern-{concern.pk}", has_text="사례 개설").wait_for()
