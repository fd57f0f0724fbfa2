"""The report facts and months (casework/reports/facts.py): the months answer what the facts
answer, a refresh after changes leaves what a rebuild makes, and a report read on old facts
asks for a refresh without failing when the broker is away."""

import datetime

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from casework import access
from casework.models import Case, Referral, ReportFacts
from casework.reports import facts, summary
from casework.reports.summary import Period
from tests import factories as f

from .conftest import SINCE, UNTIL, make_case

pytestmark = pytest.mark.django_db
PERIODS = [
    Period(SINCE, UNTIL),
    Period(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)),
    Period(datetime.date(2025, 7, 1), datetime.date(2026, 12, 31)),
]


def rows(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    # medians compared to a hundredth of a day: the same values, summed in another order
    found = [tuple(round(v, 2) if isinstance(v, float) else v for v in row) for row in found]
    return sorted(found, key=lambda row: tuple((v is None, str(v)) for v in row))


def scopes(world):
    return {
        "province": summary.school_ids(access.report_scope(world["analyst"])),
        "office": summary.school_ids(access.report_scope(world["centrehead"])),
        "school": [world.school.pk],
    }


@pytest.mark.parametrize("period", PERIODS, ids=["half", "month", "eighteen-months"])
def test_the_months_answer_what_the_facts_answer(half, period):
    assert summary.from_months(period, summary.ANY)
    for name, schools in scopes(half).items():
        cells = summary.whole_cells(schools)
        for group in (*summary.GROUPS, summary.TOTAL):
            params = summary.queries(group, schools, period)[0][1]
            from_facts = rows(summary.statement(group), params)
            by_school = rows(summary.month_statement(group), params)
            assert by_school == from_facts, (name, group)
            if cells is not None:
                with_cells = {
                    **params,
                    "districts": list(cells.districts),
                    "levels": list(cells.levels),
                }
                assert rows(summary.month_statement(group, True), with_cells) == from_facts, (
                    name,
                    group,
                )


def test_whole_offices_are_read_as_offices_and_a_part_school_by_school(half):
    found = scopes(half)
    assert summary.whole_cells(found["province"]) is not None
    assert summary.whole_cells(found["office"]) is not None
    # 남부 has two elementary schools: one of them alone is not the office
    assert summary.whole_cells(found["school"]) is None


def test_a_day_period_or_a_filter_is_counted_from_the_facts():
    half_june = Period(datetime.date(2026, 6, 1), datetime.date(2026, 6, 15))
    assert not summary.from_months(half_june, summary.ANY)
    assert not summary.from_months(Period(SINCE, UNTIL), summary.Only(domain="welfare"))


def snapshot():
    tables = {
        "cases": "SELECT * FROM casework_reportcase ORDER BY id",
        "referrals": "SELECT * FROM casework_reportreferral ORDER BY id",
        "months": """SELECT grouping, gkey, school_id, district_id, school_level, month,
            opened, ended, selected, touched, escalations, escalations_waiting,
            escalations_accepted, escalations_completed, escalations_declined,
            escalations_cancelled, referrals, referrals_waiting, referrals_accepted,
            referrals_completed, referrals_declined, referrals_cancelled, completed,
            (SELECT array_agg(round(d::numeric, 3) ORDER BY d) FROM unnest(selection_days) d),
            (SELECT array_agg(round(d::numeric, 3) ORDER BY d) FROM unnest(completion_days) d)
            FROM casework_reportmonth""",
    }
    return {name: rows(sql, {}) for name, sql in tables.items()}


def test_a_refresh_after_changes_leaves_what_a_rebuild_makes(half):
    before = snapshot()
    # changes that keep history, as the workflows make them
    case = make_case(half, half.third_school, datetime.date(2026, 5, 2), domains=["learning"])
    moved = Case.objects.filter(owner=half.school, status="active").first()
    moved.status = "closed"
    moved.closure_reason = "goals_met"
    moved.closed_on = datetime.date(2026, 6, 1)
    moved.save()
    answered = Referral.objects.filter(status="declined").first()
    answered.status = "completed"
    answered.outcome = "상담 종결"
    answered.save()
    f.ReferralFactory(case=case, status="sent", sent_at=timezone.now())
    gone = Case.objects.filter(owner=half.other_school).first()
    gone.delete()

    assert facts.refresh()["rebuilt"] is False
    refreshed = snapshot()
    assert refreshed != before
    facts.rebuild()
    assert snapshot() == refreshed
    assert not any(row[0] == gone.pk for row in refreshed["cases"])


def test_the_first_refresh_of_a_database_rebuilds(world):
    make_case(world, world.school, datetime.date(2026, 2, 1))
    assert facts.refresh()["rebuilt"] is True
    assert facts.refresh()["rebuilt"] is False
    assert ReportFacts.objects.get().refreshed_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_refresh_while_another_runs_returns_at_once(world):
    facts.refresh()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT 1 FROM casework_reportfacts WHERE id = 1 FOR UPDATE")
            assert facts.refresh() is None
            assert facts.rebuild() is None
            cursor.execute("ROLLBACK")
    finally:
        other.close()
    assert facts.refresh() is not None


def test_a_read_of_old_facts_refreshes_them(half, settings):
    make_case(half, half.school, datetime.date(2026, 4, 9))
    ids = scopes(half)["province"]
    fresh = summary.summary(ids, "school", Period(SINCE, UNTIL))
    assert fresh["total"]["opened"] == 19  # the new case waits for the next refresh
    ReportFacts.objects.update(refreshed_at=timezone.now() - datetime.timedelta(minutes=5))
    refreshed = summary.summary(ids, "school", Period(SINCE, UNTIL))
    assert refreshed["total"]["opened"] == 20
    assert refreshed["as_of"] > fresh["as_of"]


def test_a_broker_away_leaves_the_facts_as_they_are(half, settings, monkeypatch):
    def away(*args, **kwargs):
        raise ConnectionError("broker away")

    monkeypatch.setattr(facts, "enqueue", away)
    make_case(half, half.school, datetime.date(2026, 4, 9))
    ReportFacts.objects.update(refreshed_at=timezone.now() - datetime.timedelta(hours=1))
    report = summary.summary(scopes(half)["province"], "school", Period(SINCE, UNTIL))
    assert report["total"]["opened"] == 19
    assert report["as_of"] is not None


def test_the_api_says_when_the_figures_are_from(half):
    client = APIClient()
    client.force_login(half["analyst"])
    answer = client.get("/api/v1/reports/summary/?since=2026-01-01&until=2026-06-30")
    assert answer.status_code == 200
    stamp = datetime.datetime.fromisoformat(answer.json()["as_of"])
    assert stamp == ReportFacts.objects.get().refreshed_at
