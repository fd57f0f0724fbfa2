"""The coordinator imports a roster in the browser: the file is checked first, then saved from
the check's page with one click, without choosing the file again."""

import pytest

from casework.models import Student
from tests.builders import csv_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_check_then_save_with_one_click(transactional_db, world, live_server, sign_in_as):
    coordinator = sign_in_as("coordinator")
    coordinator.goto(f"{live_server.url}/casework/students/import/")
    assert coordinator.get_by_text("보호자명이 있으면 보호자관계도 적어야 합니다").is_visible()

    box = coordinator.get_by_role("checkbox", name="검사 없이 바로 저장하기")
    assert not box.is_checked()
    # KRDS draws the box on the label; what a person sees must be a real box, not a dot.
    size = coordinator.locator(f"label[for='{box.get_attribute('id')}']").evaluate(
        "label => { const s = getComputedStyle(label, '::before');"
        " return [parseFloat(s.width) || 0, parseFloat(s.height) || 0] }"
    )
    assert size[0] > 10 and size[1] > 10, size

    coordinator.get_by_label("명부 파일 (CSV 또는 XLSX)").set_input_files(
        {"name": "명부.csv", "mimeType": "text/csv", "buffer": csv_bytes()}
    )
    coordinator.get_by_role("button", name="올리기").click()
    coordinator.get_by_text("오류 없이 3행을 확인했습니다").wait_for()
    preview = coordinator.locator("#job-preview")
    assert preview.locator("thead th").first.inner_text() == "행"
    assert "김하늘" in preview.inner_text()
    assert not Student.objects.exists()

    coordinator.get_by_role("button", name="이대로 저장하기").click()
    coordinator.get_by_text("새 학생 3명").wait_for()
    assert Student.objects.filter(school=world.school).count() == 3
