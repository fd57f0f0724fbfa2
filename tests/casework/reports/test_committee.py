"""The committee report (지역위원회 반기 보고; casework/reports/committee.py and
GET /api/v1/reports/committee/): its figures against the half-years of
tests/casework/reports/conftest.py, suppression that no sum of the report undoes, the trend
against the previous half, who may request which office, bad parameters, and the XLSX and PDF
files with their watermark and access event."""

import datetime
import io

import pytest
from rest_framework.test import APIClient

from casework import access
from casework.models import AccessEvent, Case, Referral
from casework.reports import committee
from casework.reports.committee import TOTAL, Half
from partners.choices import Role
from tests import elimination
from tests import factories as f

from .conftest import make_case, referral

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/committee/"
H1 = Half(2026, 1)
TODAY = datetime.date(2026, 12, 3)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def schools_of(office) -> list:
    return list(access.committee_schools(office).values_list("pk", flat=True))


def counted(world, office=None, half=H1):
    return committee.count(schools_of(office or world.nambu), half, TODAY)


def get(world, username="analyst", office=None, query="half=2026H1", **extra):
    office = office or world.nambu
    return api(world[username]).get(f"{URL}?office={office.pk}&{query}", **extra)


# --- The half-year ------------------------------------------------------------------------------


def test_a_half_year_is_january_to_june_or_july_to_december():
    assert (H1.since, H1.until) == (datetime.date(2026, 1, 1), datetime.date(2026, 6, 30))
    h2 = Half.parse("2026H2")
    assert (h2.since, h2.until) == (datetime.date(2026, 7, 1), datetime.date(2026, 12, 31))
    assert H1.previous() == Half(2025, 2)
    assert h2.previous() == H1
    assert Half.of(datetime.date(2026, 7, 1)) == h2
    assert str(H1.label) == "2026년 상반기"
    for bad in ("2026H3", "abc", "2026h1", "26H1", "", "2026H1 2026H2"):
        with pytest.raises(ValueError):
            Half.parse(bad)


# --- Figures ------------------------------------------------------------------------------------


def test_students_identified_selected_and_supported(committee_half):
    counts = counted(committee_half)["this"].counts
    assert counts[("concerns", TOTAL, "students")] == 6

    def figures(row):
        return tuple(counts[("students", row, n)] for n in committee.STUDENT_FIGURES)

    # 이음: six opened 10 February and selected, one opened and not selected in January, two
    # opened in 2025 and selected then, supported until they closed on 5 March; 새싹: five.
    assert figures(TOTAL) == (12, 6, 8)
    assert figures("domain.learning") == (6, 6, 6)
    assert figures("domain.counselling") == (6, 6, 6)
    assert figures("domain.welfare") == (5, 0, 0)
    assert figures("domain.none") == (1, 0, 2)
    assert figures("domain.health") == (0, 0, 0)
    assert figures("difficulty.psychological") == (11, 6, 6)
    assert figures("difficulty.none") == (1, 0, 2)


def test_escalations_and_their_decisions(committee_half):
    counts = counted(committee_half)["this"].counts
    found = {name: counts[("escalations", TOTAL, name)] for name in committee.REFERRAL_FIGURES}
    assert found == {
        "sent": 6,
        "waiting": 1,
        "accepted": 3,
        "completed": 0,
        "declined": 2,
        "cancelled": 0,
    }


def test_service_referrals_by_partner_type(committee_half):
    tables = counted(committee_half)["this"]
    counts = tables.counts

    def row(key):
        return {name: counts[("referrals", key, name)] for name in ("sent", "completed", "waiting")}

    assert row("partner_agency") == {"sent": 6, "completed": 5, "waiting": 0}
    assert row("community_center") == {"sent": 5, "completed": 0, "waiting": 5}
    assert row("local_government") == {"sent": 0, "completed": 0, "waiting": 0}
    assert row(TOTAL) == {"sent": 11, "completed": 5, "waiting": 5}
    assert counts[("referrals", TOTAL, "declined")] == 1
    # Sent 1 March, completed ten days later, five of them.
    assert tables.medians["partner_agency"] == (10.0, 5)
    assert tables.medians[TOTAL] == (10.0, 5)


def test_overdue_referrals(committee_half):
    counts = counted(committee_half)["this"].counts

    def row(key):
        return tuple(counts[("overdue", key, n)] for n in committee.OVERDUE_FIGURES)

    # Escalations: 이음's never answered, two of 새싹's declined a week late, three on time.
    assert row("escalation") == (3, 1, 2)
    # Service referrals: the community centre's five never answered; the youth centre's had no
    # respond-by date.
    assert row("service") == (5, 5, 0)
    assert row(TOTAL) == (8, 6, 2)


def test_a_referral_due_after_the_half_is_not_overdue_in_it(committee_half):
    world = committee_half
    half_end = counted(world, half=H1)["this"].counts
    Referral.objects.filter(to_organization=world.community_centre).update(
        respond_by=datetime.date(2026, 7, 2)
    )
    later = counted(world, half=H1)["this"].counts
    assert half_end[("overdue", "service", "overdue")] == 5
    assert later[("overdue", "service", "overdue")] == 0


def test_the_previous_half_is_counted_alongside(committee_half):
    previous = counted(committee_half)["previous"]
    counts = previous.counts
    assert counts[("students", TOTAL, "identified")] == 3  # opened October and November 2025
    assert counts[("students", TOTAL, "selected")] == 2
    assert counts[("referrals", "partner_agency", "completed")] == 2
    assert counts[("escalations", TOTAL, "sent")] == 0
    assert counts[("concerns", TOTAL, "students")] == 0


def test_the_provincial_report_counts_every_office(committee_half):
    province = counted(committee_half, office=committee_half.province)["this"].counts
    north = counted(committee_half, office=committee_half.bukbu)["this"].counts
    south = counted(committee_half)["this"].counts
    assert north[("students", TOTAL, "identified")] == 7
    assert province[("students", TOTAL, "identified")] == 12 + 7
    for key, n in province.items():
        assert n == south[key] + north[key], key


def test_the_number_of_queries_does_not_depend_on_the_data(half, django_assert_num_queries):
    world = half
    schools = schools_of(world.nambu)
    with django_assert_num_queries(2):
        committee.report(world.nambu, schools, H1, TODAY)
    for _ in range(10):
        make_case(world, world.third_school, datetime.date(2026, 5, 1), domains=["health"])
    with django_assert_num_queries(2):
        committee.report(world.nambu, schools, H1, TODAY)


def test_the_api_answers_in_a_fixed_number_of_queries(half, django_assert_max_num_queries):
    client = api(half["analyst"])
    with django_assert_max_num_queries(8) as first:
        assert client.get(f"{URL}?office={half.nambu.pk}&half=2026H1").status_code == 200
    for _ in range(10):
        make_case(half, half.third_school, datetime.date(2026, 5, 1), domains=["health"])
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get(f"{URL}?office={half.nambu.pk}&half=2026H1").status_code == 200


# --- Suppression --------------------------------------------------------------------------------


def shown_cells(data) -> dict:
    """The report's counts as cells (table, row, figure) → shown value, keyed as the report
    module keys them."""
    cells = {("concerns", TOTAL, "students"): data["concerns"]}
    students = data["students"]
    for name in committee.STUDENT_FIGURES:
        cells[("students", TOTAL, name)] = students["total"][name]
        for group, rows in (
            ("domain", students["by_domain"]),
            ("difficulty", students["by_difficulty"]),
        ):
            for row in rows:
                cells[("students", f"{group}.{row['key']}", name)] = row[name]
    cells[("escalations", TOTAL, "sent")] = data["escalations"]["sent"]
    for outcome, value in data["escalations"]["by_outcome"].items():
        cells[("escalations", TOTAL, outcome)] = value
    for row in [*data["referrals"]["rows"], data["referrals"]["total"]]:
        key = TOTAL if row["key"] == "total" else row["key"]
        cells[("referrals", key, "sent")] = row["sent"]
        for outcome, value in row["by_outcome"].items():
            cells[("referrals", key, outcome)] = value
    for row in [*data["overdue"]["rows"], data["overdue"]["total"]]:
        key = TOTAL if row["key"] == "total" else row["key"]
        for name in committee.OVERDUE_FIGURES:
            cells[("overdue", key, name)] = row[name]
    return cells


def recovered_by_elimination(shown: dict, equations: list[dict]) -> set:
    return elimination.recovered([c for c, v in shown.items() if isinstance(v, str)], equations)


def test_small_counts_show_as_less_than_five_and_complements_as_x(committee_half):
    data = committee.report(committee_half.nambu, schools_of(committee_half.nambu), H1, TODAY)
    assert data["suppressed"] is True
    cells = shown_cells(data)
    assert cells[("students", "domain.none", "identified")] == "<5"
    assert cells[("escalations", TOTAL, "waiting")] == "<5"
    assert cells[("escalations", TOTAL, "accepted")] == "<5"
    assert cells[("students", "domain.health", "identified")] == 0
    assert cells[("students", TOTAL, "identified")] == 12
    for value in cells.values():
        assert isinstance(value, int) or value in ("<5", "x")
        assert not (isinstance(value, int) and 1 <= value <= 4)
    exact = counted(committee_half)["this"].counts
    for key, value in cells.items():
        if value == "x":
            assert exact[key] >= 5, key


def test_nothing_hidden_follows_from_the_sums_of_the_report(committee_half):
    """The attacker holds the report and every sum in it: the domains and the difficulties to
    the total of each figure, the outcomes to what was sent, the partner types to the total,
    still waiting and answered late to the overdue, the kinds to the total. Exact elimination
    over the rationals finds no hidden cell."""
    world = committee_half
    for office in (world.nambu, world.province):
        data = committee.report(office, schools_of(office), H1, TODAY)
        shown = shown_cells(data)
        kinds = [row["key"] for row in data["referrals"]["rows"]]
        equations = []
        for line in committee.lines(kinds):
            equation = dict.fromkeys(line.parts, 1)
            equation[line.total] = -1
            equations.append(equation)
        assert any(isinstance(v, str) for v in shown.values()), "the half-year has small cells"
        recovered = recovered_by_elimination(shown, equations)
        assert not recovered, recovered


def test_a_median_of_fewer_than_five_and_a_rate_of_hidden_counts_are_withheld(committee_half):
    data = committee.report(committee_half.nambu, schools_of(committee_half.nambu), H1, TODAY)
    youth = next(r for r in data["referrals"]["rows"] if r["key"] == "partner_agency")
    assert youth["median_days_to_completion"] == 10.0
    centre = next(r for r in data["referrals"]["rows"] if r["key"] == "community_center")
    assert centre["median_days_to_completion"] is None  # none completed
    for row in [*data["referrals"]["rows"], data["referrals"]["total"]]:
        hidden = isinstance(row["sent"], str) or isinstance(row["by_outcome"]["completed"], str)
        if hidden or not row["sent"]:
            assert row["completion_rate"] is None
        else:
            assert row["completion_rate"] == round(
                100 * row["by_outcome"]["completed"] / row["sent"], 1
            )
    previous = {row["key"]: row for row in data["trend"]}["median_days_to_completion"]
    assert previous["previous"] is None  # two completed in 2025H2


def test_a_rate_is_shown_when_both_counts_are(half):
    world = half
    for case in Case.objects.filter(owner=world.other_school)[:5]:
        referral(
            world,
            case,
            status="completed",
            sent=datetime.date(2026, 3, 2),
            closed=datetime.date(2026, 3, 6),
        )
    data = committee.report(world.bukbu, schools_of(world.bukbu), H1, TODAY)
    total = data["referrals"]["total"]
    assert (total["sent"], total["by_outcome"]["completed"]) == (5, 5)
    assert total["completion_rate"] == 100.0
    assert total["median_days_to_completion"] == 4.0


# --- Trend --------------------------------------------------------------------------------------


def test_the_trend_against_the_previous_half(committee_half):
    data = committee.report(committee_half.nambu, schools_of(committee_half.nambu), H1, TODAY)
    assert data["previous"]["half"] == "2025H2"
    trend = {row["key"]: row for row in data["trend"]}
    assert list(trend) == list(committee.headline_labels())
    assert trend["concerns"] == {**trend["concerns"], "this": 6, "previous": 0, "change": 6}
    assert (trend["overdue"]["this"], trend["overdue"]["previous"]) == (8, 0)
    assert trend["overdue"]["change"] == 8
    # Hidden on either side: no change is shown.
    assert trend["identified"]["previous"] == "<5"
    assert (trend["identified"]["this"], trend["identified"]["change"]) == (12, None)


def test_the_previous_half_shows_what_its_own_report_shows(committee_half):
    """Each half is suppressed from its own tables, so the trend's previous column is the
    headline of the previous half's own report."""
    world = committee_half
    now = committee.report(world.nambu, schools_of(world.nambu), H1, TODAY)
    before = committee.report(world.nambu, schools_of(world.nambu), Half(2025, 2), TODAY)
    for row, earlier in zip(now["trend"], before["trend"], strict=True):
        assert row["previous"] == earlier["this"], row["key"]


# --- Who may request which office -----------------------------------------------------------


def test_the_analyst_requests_any_office_of_the_province_and_the_province(committee_half):
    world = committee_half
    for office in (world.nambu, world.bukbu, world.province):
        response = get(world, office=office)
        assert response.status_code == 200, response.content
        assert response.json()["office"]["name"] == office.name
        assert response["Cache-Control"] == "no-store"
    assert get(world, office=world.province).json()["schools"] == 3


def test_a_centre_head_requests_only_their_office(committee_half):
    world = committee_half
    response = get(world, "centrehead")
    assert response.status_code == 200
    assert response.json()["students"]["total"]["identified"] == 12
    assert get(world, "centrehead", office=world.bukbu).status_code == 404
    assert get(world, "centrehead", office=world.province).status_code == 404
    assert get(world, "centrehead", office=world.school).status_code == 404


def test_an_office_of_another_province_is_not_found(committee_half):
    world = committee_half
    elsewhere = f.ProvincialOfficeFactory(code="C10", name="부산광역시교육청")
    office = f.DistrictOfficeFactory(
        code="C10-DONG", name="부산광역시동부교육지원청", parent=elsewhere
    )
    assert get(world, office=office).status_code == 404
    assert get(world, office=elsewhere).status_code == 404
    missing = api(world["analyst"]).get(
        f"{URL}?office=00000000-0000-0000-0000-000000000000&half=2026H1"
    )
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "username", ["principal", "teacher", "coordinator", "casemanager", "partner", "privacy", "vice"]
)
def test_a_principal_and_everyone_else_are_refused(committee_half, username):
    assert get(committee_half, username).status_code == 403


def test_a_centre_head_of_a_provincial_office_requests_no_committee_report(committee_half):
    user = f.UserFactory(username="provincehead")
    f.MembershipFactory(user=user, organization=committee_half.province, role=Role.CENTRE_HEAD)
    assert access.committee_offices(user) is None
    assert api(user).get(f"{URL}?office={committee_half.province.pk}").status_code == 403


def test_anonymous_is_asked_to_sign_in(committee_half):
    response = APIClient().get(f"{URL}?office={committee_half.nambu.pk}&half=2026H1")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("half=2026H1", "office"),
        ("office=abc&half=2026H1", "office"),
        ("office={office}&half=2026H3", "half"),
        ("office={office}&half=abc", "half"),
        ("office={office}&half=2099H1", "half"),
        ("office={office}&half=2026H1&format=csv", "format"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(committee_half, query, field):
    response = api(committee_half["analyst"]).get(
        f"{URL}?{query.format(office=committee_half.nambu.pk)}"
    )
    assert response.status_code == 400
    assert field in response.json()


def test_without_a_half_the_current_half_is_reported(committee_half):
    response = api(committee_half["analyst"]).get(f"{URL}?office={committee_half.nambu.pk}")
    assert response.status_code == 200
    assert response.json()["half"] == committee.Half.of(datetime.date.today()).code


def test_the_json_names_nobody(committee_half):
    body = get(committee_half).content.decode()
    for case in Case.objects.filter(owner=committee_half.school).select_related("student"):
        assert case.student.name not in body
        assert str(case.pk) not in body
    assert committee_half["coordinator"].username not in body
    assert not AccessEvent.objects.filter(object_type=committee.OBJECT_TYPE).exists()


# --- Files --------------------------------------------------------------------------------------


def download_events(user):
    return AccessEvent.objects.filter(user=user, object_type=committee.OBJECT_TYPE)


def test_the_xlsx_has_a_cover_sheet_the_watermark_and_korean_labels(committee_half):
    from openpyxl import load_workbook

    world = committee_half
    user = world["analyst"]
    response = get(world, query="half=2026H1&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(response.content))
    cover, sheet = book.worksheets
    cover_text = " ".join(str(c.value) for row in cover.iter_rows() for c in row if c.value)
    assert "지역위원회 반기 보고" in cover_text
    assert "서울특별시남부교육지원청" in cover_text
    assert "2026년 상반기" in cover_text
    assert "2026년 1월 1일" in cover_text
    assert "위원회 보고" in cover_text
    name = user.get_full_name() or user.username
    for ws in (cover, sheet):
        for part in (ws.oddHeader.center.text, ws.oddFooter.center.text):
            assert name in part
            assert "서울특별시교육청" in part  # the analyst's organisation
            assert "사유: 위원회 보고" in part
    # Counts are numbers a spreadsheet adds up; suppressed cells the text "<5" (core.exportfiles).
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["표", "구분", "지표", "값"]
    assert ["학생 발굴·선정·지원", "지원 요청 학생", "학생 수", 6] in rows  # a number
    assert ["지원 영역별 학생", "학습", "발굴", 6] in rows
    assert ["교육지원청 요청과 결정", "교육지원청 요청", "의뢰", 6] in rows
    assert ["지원 영역별 학생", "지원 영역 미지정", "발굴", "<5"] in rows
    assert ["지난 반기와 비교", "회신 기한 경과", "증감", 8] in rows
    event = download_events(user).get()
    assert event.action == AccessEvent.Action.DOWNLOAD
    assert event.reason == "위원회 보고"
    assert event.object_ids == [str(world.nambu.pk)]
    assert event.case_id is None and event.student_id is None


def test_the_pdf_is_korean_with_the_watermark_on_every_page(committee_half):
    from pypdf import PdfReader

    world = committee_half
    user = world["centrehead"]
    response = get(world, "centrehead", query="half=2026H1&format=pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.content))
    pages = [page.extract_text() for page in reader.pages]
    name = user.get_full_name() or user.username
    for text in pages:
        assert name in text
        assert "위원회 보고" in text
    text = "\n".join(pages)
    for heading in (
        "지역위원회 반기 보고",
        "지원 영역별 학생",
        "교육지원청 요청과 결정",
        "지난 반기와 비교",
    ):
        assert heading in text
    assert "2026년 1월 1일" in text
    fonts = {
        str(font.get_object().get("/BaseFont"))
        for page in reader.pages
        for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values()
    }
    assert any("Pretendard" in font for font in fonts), fonts
    event = download_events(user).get()
    assert (event.action, event.reason) == (AccessEvent.Action.DOWNLOAD, "위원회 보고")


def test_an_xlsx_cell_cannot_run_as_a_formula(committee_half):
    from openpyxl import load_workbook

    world = committee_half
    world.nambu.name = '=HYPERLINK("http://x")'
    world.nambu.save()
    response = get(world, query="half=2026H1&format=xlsx")
    book = load_workbook(io.BytesIO(response.content))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert not (isinstance(cell.value, str) and cell.value.startswith("="))
