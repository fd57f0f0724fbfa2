"""The summary report's figures (casework/reports/summary.py) against the half-year of
tests/casework/reports/conftest.py, before suppression, and the report as answered: small cells
hidden so that neither the totals nor the district grouping of the same period give them away."""

import datetime

import pytest

from casework import access
from casework.reports import summary
from casework.reports.summary import Period
from tests import elimination

from .conftest import SINCE, UNTIL

pytestmark = pytest.mark.django_db
PERIOD = Period(SINCE, UNTIL)
CASE_FIGURES = ("cases", "opened", "closed", "active")


def everything(world):
    return summary.school_ids(access.report_scope(world["analyst"]))


def by_label(counted):
    return {str(counted.labels[key]): counted.counts[key] for key in counted.keys}


def figures(counts, names=CASE_FIGURES):
    return tuple(counts[name] for name in names)


def test_by_school(half):
    counted = summary.count(everything(half), "school", PERIOD)
    rows = by_label(counted)
    assert figures(rows["이음초등학교"]) == (9, 7, 3, 6)
    assert figures(rows["새싹초등학교"]) == (5, 5, 0, 5)
    assert figures(rows["한빛초등학교"]) == (7, 7, 0, 7)
    assert figures(counted.total) == (21, 19, 3, 18)
    ieum = rows["이음초등학교"]
    assert ieum["escalations"] == 1 and ieum["escalations_by_outcome.waiting"] == 1
    assert ieum["referrals"] == 6
    assert ieum["referrals_by_outcome.completed"] == 5
    assert ieum["referrals_by_outcome.declined"] == 1
    key = next(k for k in counted.keys if counted.labels[k] == "이음초등학교")
    assert counted.medians[key] == {
        "median_days_to_selection": 10.0,
        "median_days_to_completion": 10.0,
    }
    other = next(k for k in counted.keys if counted.labels[k] == "한빛초등학교")
    assert counted.medians[other]["median_days_to_selection"] is None
    assert counted.total_medians["median_days_to_completion"] == 10.0


def test_by_district_and_borough(half):
    rows = by_label(summary.count(everything(half), "district", PERIOD))
    assert figures(rows["서울특별시남부교육지원청"]) == (14, 12, 3, 11)
    assert figures(rows["서울특별시북부교육지원청"]) == (7, 7, 0, 7)
    rows = by_label(summary.count(everything(half), "borough", PERIOD))
    assert figures(rows["금천구"]) == (6, 6, 0, 6)
    assert figures(rows["미상"]) == (15, 13, 3, 12)


def test_by_domain_difficulty_and_status(half):
    rows = by_label(summary.count(everything(half), "domain", PERIOD))
    assert rows["상담"]["cases"] == 6 and rows["학습"]["cases"] == 6
    assert rows["복지"]["cases"] == 12 and rows["지원 영역 미지정"]["cases"] == 3
    assert rows["진로"]["cases"] == 0  # every domain has its row
    rows = by_label(summary.count(everything(half), "difficulty", PERIOD))
    assert rows["심리·정서"]["cases"] == 18 and rows["어려움 유형 미지정"]["cases"] == 3
    rows = by_label(summary.count(everything(half), "status", PERIOD))
    assert rows["지원 중"]["cases"] == 18
    assert rows["종결"]["cases"] == 2 and rows["미선정"]["cases"] == 1


def test_by_month(half):
    counted = summary.count(everything(half), "month", PERIOD)
    assert counted.keys == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    rows = counted.counts
    assert [rows[m]["opened"] for m in counted.keys] == [1, 6, 7, 5, 0, 0]
    assert [rows[m]["closed"] for m in counted.keys] == [1, 0, 2, 0, 0, 0]
    assert [rows[m]["cases"] for m in counted.keys] == [3, 8, 15, 18, 18, 18]
    assert [rows[m]["active"] for m in counted.keys] == [2, 8, 13, 18, 18, 18]
    assert [rows[m]["referrals"] for m in counted.keys] == [0, 0, 5, 1, 0, 0]
    assert [rows[m]["escalations"] for m in counted.keys] == [0, 0, 0, 0, 1, 0]


def test_a_period_counts_only_what_touches_it(half):
    march = Period(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    counted = summary.count(everything(half), "school", march)
    assert figures(counted.total) == (15, 7, 2, 13)
    assert counted.total["referrals"] == 5
    before = summary.count(
        everything(half), "school", Period(datetime.date(2025, 1, 1), datetime.date(2025, 6, 30))
    )
    assert before.keys == [] and before.total["cases"] == 0


def test_the_numbers_of_queries_do_not_depend_on_the_grouping(half, django_assert_num_queries):
    ids = everything(half)
    # when the facts are as of, which offices and levels the schools make up, the rows, the total
    for group in summary.GROUPS:
        with django_assert_num_queries(4):
            summary.summary(ids, group, PERIOD)


# --- Suppression in the report --------------------------------------------------------------------


def cells(report):
    """The report's counts as cells: (row key, figure) → shown value."""
    found = {}
    for row in [*report["rows"], {**report["total"], "key": summary.TOTAL}]:
        for name in (*CASE_FIGURES, "escalations", "referrals"):
            found[(row["key"], name)] = row[name]
        for kind in ("escalations", "referrals"):
            for outcome, value in row[f"{kind}_by_outcome"].items():
                found[(row["key"], f"{kind}_by_outcome.{outcome}")] = value
    return found


def test_small_counts_show_as_less_than_five_and_zeros_as_zero(half):
    report = summary.summary(everything(half), "school", PERIOD)
    assert report["suppressed"] is True
    ieum = next(row for row in report["rows"] if row["label"] == "이음초등학교")
    assert ieum["closed"] == "<5"
    assert ieum["escalations"] == "<5"
    assert ieum["referrals_by_outcome"]["cancelled"] == 0
    hanbit = next(row for row in report["rows"] if row["label"] == "한빛초등학교")
    assert hanbit["closed"] == 0
    for value in cells(report).values():
        assert isinstance(value, int) or value in ("<5", "x")
        assert not (isinstance(value, int) and 1 <= value <= 4)


def test_the_total_row_is_the_same_in_every_grouping(half):
    totals = [summary.summary(everything(half), g, PERIOD)["total"] for g in summary.GROUPS]
    assert all(total == totals[0] for total in totals)


def test_nothing_hidden_follows_from_the_totals_or_the_district_grouping(half):
    """The attacker holds the school and the district groupings of the same period and every
    sum between them: within each row, down each column to the total, and the schools of each
    district to its row. Exact elimination over the rationals finds no hidden cell."""
    ids = everything(half)
    schools = summary.summary(ids, "school", PERIOD)
    districts = summary.summary(ids, "district", PERIOD)
    counted = summary.count(ids, "school", PERIOD)
    shown = {("s", k): v for k, v in cells(schools).items()}
    shown |= {("d", k): v for k, v in cells(districts).items() if k[0] != summary.TOTAL}

    def ref(side, cell):
        return ("s", cell) if cell[0] == summary.TOTAL else (side, cell)  # one total row

    equations = []  # each: cell → coefficient, summing to zero
    for side, report in (("s", schools), ("d", districts)):
        keys = [row["key"] for row in report["rows"]]
        for line in summary.lines("school", keys):
            equation = {ref(side, part): 1 for part in line.parts}
            equation[ref(side, line.total)] = -1
            equations.append(equation)
    for row in districts["rows"]:
        members = [k for k in counted.keys if (counted.parents[k] or "none") == row["key"]]
        for name in summary.FIGURES:
            equation = {("s", (m, name)): 1 for m in members}
            equation[("d", (row["key"], name))] = -1
            equations.append(equation)
    unknown = [c for c, v in shown.items() if isinstance(v, str)]
    assert unknown, "the half-year has small cells"
    found = elimination.recovered(unknown, equations)
    assert not found, found
