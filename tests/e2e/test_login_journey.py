"""A coordinator signs in and lands on the Korean home page, styled by KRDS."""

from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "test-results"


def test_coordinator_signs_in_and_sees_korean_home(
    transactional_db, world, live_server, page, sign_in
):
    sign_in("coordinator")
    assert page.url == f"{live_server.url}/"
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.get_by_role("heading", name="내 소속과 개인정보 취급승인").is_visible()
    header = page.locator("header").inner_text()
    assert "이음초등학교" in header and "학생맞춤통합지원 담당자" in header
    assert page.get_by_role("heading", name="기관·서비스 안내").is_visible()
    # KRDS is really loaded: its stylesheet answered and styles the primary button family.
    css = page.request.get(f"{live_server.url}/static/krds/css/component/output.css")
    assert css.ok and b".krds-btn" in css.body()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-coordinator.png"), full_page=True)

    page.get_by_label("기관 유형").select_option("district_office")
    page.wait_for_load_state("networkidle")
    results = page.locator("#directory-results")
    results.get_by_text("기관 2곳").wait_for()  # the two district offices, swapped in by htmx
    assert results.get_by_role("heading", name="서울특별시남부교육지원청").is_visible()
    assert "금천구청소년상담복지센터" not in results.inner_text()
