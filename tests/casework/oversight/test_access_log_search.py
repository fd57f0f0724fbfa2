"""The access-log search (DESIGN.md §9): the privacy officer of the provincial office above the
organisations concerned reads their events, newest first, by case, student, user, action and
dates; reading the log and downloading it as CSV (with a reason) are logged themselves."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from casework.models import AccessEvent
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit/access/"
PAGE = "/casework/oversight/access-log/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reads(world, opened_case):
    """The coordinator reads the case twice, the teacher lists the roster."""
    coordinator = api(world["coordinator"])
    coordinator.get(f"/api/v1/cases/{opened_case.pk}/")
    coordinator.get(f"/api/v1/cases/{opened_case.pk}/notes/")
    api(world["teacher"]).get("/api/v1/students/")
    return opened_case


def test_the_officer_reads_the_events_newest_first(world, reads):
    answer = api(world["privacy"]).get(URL)
    assert answer.status_code == 200
    rows = answer.json()["results"]
    mine = [r for r in rows if r["user"]["id"] != str(world["privacy"].pk)]
    assert len(mine) >= 3
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    row = next(r for r in rows if r["case"] == str(reads.pk))
    assert row["user"]["name"] == str(world["coordinator"])
    assert row["organization"]["name"] == world.school.name
    assert row["case_number"] == reads.number
    assert set(row) >= {
        "id",
        "occurred_at",
        "user",
        "organization",
        "action",
        "case",
        "student",
        "object_count",
        "reason",
        "ip",
    }


def test_filters_by_case_user_action_and_dates(world, reads):
    officer = api(world["privacy"])
    by_case = officer.get(URL, {"case": reads.number}).json()["results"]
    assert by_case and {r["case"] for r in by_case} == {str(reads.pk)}
    assert officer.get(URL, {"case": str(reads.pk)}).json()["results"] == by_case
    by_user = officer.get(URL, {"user": "teacher"}).json()["results"]
    assert by_user and {r["user"]["id"] for r in by_user} == {str(world["teacher"].pk)}
    listed = officer.get(URL, {"action": "list"}).json()["results"]
    assert listed and {r["action"] for r in listed} == {"list"}
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert officer.get(URL, {"since": tomorrow}).json()["results"] == []
    today = timezone.localdate().isoformat()
    assert officer.get(URL, {"since": today, "until": today, "user": "teacher"}).json()["results"]


@pytest.mark.parametrize(
    "query",
    [
        {"since": "2026-13-01"},
        {"since": "2026-12-02", "until": "2026-12-01"},
        {"action": "delete"},
        {"student": "not-a-uuid"},
        {"cursor": "x.y"},
        {"page_size": "100000"},
        {"format": "xml"},
        {"format": "csv"},
    ],
)
def test_bad_filters_are_400(world, query):
    answer = api(world["privacy"]).get(URL, query)
    assert answer.status_code == 400, query
    assert answer.json()


@pytest.mark.parametrize("username", ["teacher", "coordinator", "casemanager", "analyst"])
def test_anyone_else_is_refused(world, username):
    assert api(world[username]).get(URL).status_code == 403
    assert web(world[username]).get(PAGE).status_code == 403


def test_an_officer_of_another_province_reads_nothing_of_seoul(world, reads):
    busan = factories.ProvincialOfficeFactory(code="C10", name="부산광역시교육청")
    officer = factories.UserFactory(username="busan-privacy")
    factories.MembershipFactory(user=officer, organization=busan, role="privacy_officer")
    rows = api(officer).get(URL).json()["results"]
    assert [r for r in rows if r["user"]["id"] != str(officer.pk)] == []


def test_reading_the_log_is_logged(world, reads):
    shown = api(world["privacy"]).get(URL, {"case": reads.number}).json()["results"]
    logged = AccessEvent.objects.filter(user=world["privacy"]).latest("id")
    assert logged.action == "search" and logged.object_type == "access_event"
    assert logged.object_ids == [str(r["id"]) for r in shown]


def test_pages_follow_without_counting(world, reads):
    officer = api(world["privacy"])
    first = officer.get(URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = officer.get(first["next"]).json()
    assert second["results"]
    assert max(r["id"] for r in second["results"]) < min(r["id"] for r in first["results"])
    assert {r["id"] for r in second["results"]}.isdisjoint({r["id"] for r in first["results"]})


def test_csv_needs_a_reason_and_logs_the_download(world, reads):
    officer = api(world["privacy"])
    assert officer.get(URL, {"format": "csv"}).status_code == 400
    answer = officer.get(URL, {"format": "csv", "reason": "11월 점검", "case": reads.number})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    text = b"".join(answer.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert "11월 점검" in lines[0][0] and str(world["privacy"]) in lines[0][0]
    assert lines[1][0] == "번호"
    assert {line[8] for line in lines[2:]} == {reads.number}
    logged = AccessEvent.objects.filter(user=world["privacy"]).latest("id")
    assert logged.action == "download" and logged.reason == "11월 점검"
    assert len(logged.object_ids) == len(lines) - 2


def test_csv_cells_are_not_formulas(world, opened_case):
    api(world["coordinator"]).get(
        f"/api/v1/students/{opened_case.student_id}/subject-access/",
        {"reason": '=HYPERLINK("http://x")'},
    )
    answer = api(world["privacy"]).get(
        URL, {"format": "csv", "reason": "@점검", "action": "export"}
    )
    lines = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    assert lines[0][0].startswith("'") or not lines[0][0].startswith(("=", "@"))
    reasons = [line[10] for line in lines[2:]]
    assert reasons and all(r.startswith("'=") for r in reasons)


def test_the_page_searches_and_downloads(world, reads):
    officer = web(world["privacy"])
    page = officer.get(PAGE, {"case": reads.number})
    assert page.status_code == 200
    text = page.content.decode()
    assert reads.number in text and str(world["coordinator"]) in text
    bad = officer.get(PAGE, {"since": "어제"})
    assert bad.status_code == 400 and "form-hint-invalid" in bad.content.decode()
    missing = officer.post(PAGE + f"?case={reads.number}", {"reason": ""})
    assert missing.status_code == 400 and "form-hint-invalid" in missing.content.decode()
    download = officer.post(PAGE + f"?case={reads.number}", {"reason": "점검 보고"})
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert AccessEvent.objects.filter(user=world["privacy"]).latest("id").reason == "점검 보고"
