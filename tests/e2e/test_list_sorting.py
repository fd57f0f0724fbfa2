"""The case list keeps the coordinator's filter when they leave it and come back, and sorts from
the keyboard: Tab reaches a column header's link, Enter sorts, and the header says how."""

import pytest

from casework import access
from tests.factories import CaseFactory, StudentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cases(world):
    made = []
    for number, name, status in (
        ("2026-S0001-0003", "강하늘", "active"),
        ("2026-S0001-0001", "문가을", "active"),
        ("2026-S0001-0002", "배바다", "identified"),
    ):
        student = StudentFactory(school=world.school, name=name)
        case = CaseFactory(owner=world.school, student=student, number=number, status=status)
        access.grant_case_to_owner_school(case)
        made.append(case)
    return made


def shown_numbers(page) -> list[str]:
    return page.locator("#case-rows tbody tr td:first-child a").all_inner_texts()


def test_the_case_list_keeps_its_filter_and_sorts_from_the_keyboard(
    transactional_db, world, cases, live_server, sign_in_as
):
    page = sign_in_as("coordinator")
    page.goto(f"{live_server.url}/casework/cases/")
    assert len(shown_numbers(page)) == 3

    # Filter: the rows change in place (htmx).
    with page.expect_response(lambda r: "status=active" in r.url):
        page.get_by_label("상태").select_option("active")
    page.locator("#case-rows", has_text="사례 2건").wait_for()
    assert sorted(shown_numbers(page)) == ["2026-S0001-0001", "2026-S0001-0003"]

    # Leave for a case, come back by the menu: the filter is still there.
    page.get_by_role("link", name="2026-S0001-0001").click()
    page.wait_for_load_state("networkidle")
    page.locator("header, nav").get_by_role("link", name="사례", exact=True).first.click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_label("상태").input_value() == "active"
    assert sorted(shown_numbers(page)) == ["2026-S0001-0001", "2026-S0001-0003"]
    assert page.get_by_text("지난번에 고른 조건과 정렬을 그대로 보여 줍니다.").is_visible()

    # Sort by case number with the keyboard alone.
    page.get_by_role("button", name="찾기").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "sort-cases-number":
            break
    assert page.evaluate("document.activeElement.id") == "sort-cases-number"
    header = page.locator("th", has=page.locator("#sort-cases-number"))
    assert header.get_attribute("aria-sort") == "none"
    with page.expect_response(lambda r: "sort=number" in r.url):
        page.keyboard.press("Enter")
    page.locator("th[aria-sort='ascending'] #sort-cases-number").wait_for()
    assert shown_numbers(page) == ["2026-S0001-0001", "2026-S0001-0003"]
    assert "정렬: 오름차순" in page.locator("#sort-cases-number").inner_text()
    # The focus stays on the header, so Enter again sorts the other way.
    assert page.evaluate("document.activeElement.id") == "sort-cases-number"
    with page.expect_response(lambda r: "sort=-number" in r.url):
        page.keyboard.press("Enter")
    page.locator("th[aria-sort='descending'] #sort-cases-number").wait_for()
    assert shown_numbers(page) == ["2026-S0001-0003", "2026-S0001-0001"]

    # The filter reset clears both.
    page.reload()
    assert shown_numbers(page) == ["2026-S0001-0003", "2026-S0001-0001"]
    page.get_by_role("link", name="필터 초기화").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_label("상태").input_value() == ""
    assert len(shown_numbers(page)) == 3
