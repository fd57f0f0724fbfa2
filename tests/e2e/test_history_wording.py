"""A coordinator reads a case's history on the case page as Korean sentences: who, when, what
changed from what to what and why, with labels and Korean dates, never field names, status
codes, ids or ISO timestamps."""

import re
from datetime import date

import pytest

from casework.workflows import intake, lifecycle, records
from tests.factories import StudentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_history_reads_as_korean_sentences(transactional_db, world, live_server, sign_in_as):
    case = intake.open_case(
        by=world["coordinator"],
        student=StudentFactory(school=world.school, name="윤다온"),
        difficulties=["economic"],
    )
    case = lifecycle.transition_case(
        case, by=world["coordinator"], to="reviewing", reason="면담 필요"
    )
    records.update_case(
        case,
        by=world["coordinator"],
        version=case.version,
        reason="보호자 상담 뒤 조정",
        risk_level="crisis",
        review_due_on=date(2027, 1, 15),
    )

    page = sign_in_as("coordinator")
    page.goto(f"{live_server.url}/casework/cases/{case.pk}/")
    page.get_by_role("heading", name="이력").scroll_into_view_if_needed()
    history = page.locator("#case-timeline")
    history.wait_for()
    entries = history.locator("li.ieum-timeline-entry")
    assert entries.count() >= 3  # opened, put under review, details changed: each its own item

    changed = entries.filter(has_text="사례 정보를 바꿨습니다.").first
    text = changed.inner_text()
    assert world["coordinator"].name in text
    assert re.search(r"\d{4}년 \d{1,2}월 \d{1,2}일 오[전후] \d{1,2}:\d{2}", text)
    assert changed.locator("li", has_text="점검 예정일:").inner_text().endswith("→ 2027년 1월 15일")
    assert changed.locator("li", has_text="위기 수준:").inner_text() == "위기 수준: 관심 → 위기"
    assert "사유: 보호자 상담 뒤 조정" in text

    status = entries.filter(has_text="사례 상태를 바꿨습니다.").first
    assert status.locator("li", has_text="상태:").inner_text() == "상태: 발굴 → 검토 중"
    assert "사유: 면담 필요" in status.inner_text()

    everything = history.inner_text()
    for raw in ("review_due_on", "risk_level", "identified", "reviewing", "crisis", "+00:00"):
        assert raw not in everything
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", everything)
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}", everything)
