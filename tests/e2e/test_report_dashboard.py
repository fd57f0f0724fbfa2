"""The analyst's province dashboard in the browser: reached from the menu, its charts drawn with
the same figures in a table beside each, a filter applied and kept, small cells shown as "<5",
and no axe-core violation on a desktop or a phone screen; then the committee report downloaded."""

import io
from pathlib import Path

import openpyxl
import pytest

from casework.models import AccessEvent
from tests import factories as f
from tests.e2e.axe import AXE, ROOT, RUN_AXE, WIDTHS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENS = ROOT / "test-results" / "screens"


@pytest.fixture
def cases(world):
    for _ in range(7):
        f.CaseFactory(owner=world.school, status="active", domains=["welfare"])
    for _ in range(2):
        f.CaseFactory(owner=world.other_school, status="active", domains=["counselling"])


def test_the_analyst_reads_the_province_dashboard(
    transactional_db, world, cases, live_server, sign_in_as
):
    page = sign_in_as("analyst")
    page.locator("header, nav").get_by_role("link", name="통계", exact=True).first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith("통계 현황")
    page.locator(".ieum-chart.is-drawn").first.wait_for()
    assert page.locator(".ieum-chart.is-drawn").count() == 3
    table = page.locator("section", has=page.get_by_role("heading", name="교육지원청별 현황"))
    assert "<5" in table.inner_text()  # the north's two cases

    page.get_by_label("지원 영역", exact=True).select_option("welfare")
    page.get_by_role("button", name="적용").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_label("지원 영역", exact=True).input_value() == "welfare"
    assert "domain=welfare" in page.url

    page.add_script_tag(path=str(AXE))
    for name, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(200)
        assert page.evaluate(RUN_AXE) == [], name
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"analyst-report-dashboard-{name}.png"), full_page=True)
    # On a phone the page does not scroll sideways: charts and tables stack.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The committee's half-year report, as a file.
    page.set_viewport_size(WIDTHS["desktop"])
    committee = page.locator("#committee-report")
    committee.get_by_label("보고 기관").select_option(label="서울특별시남부교육지원청")
    committee.get_by_label("파일 형식").select_option("xlsx")
    committee.get_by_role("button", name="파일 만들기").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="파일 만들기").click()  # without a reason: refused
    page.locator(".form-hint-invalid").wait_for()
    page.get_by_label("내보내는 사유").fill("2026년 하반기 지역위원회 보고")
    page.get_by_role("button", name="파일 만들기").click()
    page.locator("#export-download").wait_for()
    with page.expect_download() as made:
        page.locator("#export-download").click()
    saved = made.value.path()
    assert made.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(saved).read_bytes()))
    text = " ".join(
        str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
    )
    assert "서울특별시남부교육지원청" in text
    assert "2026년 하반기 지역위원회 보고" in text  # the watermark carries the reason
    assert AccessEvent.objects.filter(
        action="download", user=world["analyst"], reason="2026년 하반기 지역위원회 보고"
    ).exists()
