"""The casework API: the journey, status codes, isolation, access events and bounded queries."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from casework import access
from casework.models import AccessEvent, Job
from casework.workflows import intake, records, team
from tests.builders import csv_bytes, select_case
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def api(world, username):
    client = APIClient()
    client.force_authenticate(world[username])
    return client


def test_the_whole_journey_over_the_api(world):
    student = StudentFactory(school=world.school, name="이하늘")
    teacher, coordinator = api(world, "teacher"), api(world, "coordinator")
    vice, principal = api(world, "vice"), api(world, "principal")

    concern = teacher.post(
        "/api/v1/concerns/",
        {
            "student": str(student.pk),
            "difficulties": ["psychological"],
            "description": "d",
            "urgency": "high",
        },
        format="json",
    )
    assert concern.status_code == 201, concern.json()
    triaged = coordinator.post(
        f"/api/v1/concerns/{concern.json()['id']}/triage/", {"decision": "open_case"}, format="json"
    )
    case_id = triaged.json()["case"]
    assert triaged.status_code == 200 and case_id

    assert (
        coordinator.post(
            f"/api/v1/cases/{case_id}/transition/", {"to": "reviewing"}, format="json"
        ).status_code
        == 200
    )
    meeting = vice.post(
        "/api/v1/meetings/",
        {
            "organization": str(world.school.pk),
            "kind": "school_team",
            "held_on": str(TODAY()),
            "attendees": [str(world["vice"].pk)],
            "decisions": [{"case": case_id, "decision": "select", "reasons": "선정"}],
        },
        format="json",
    )
    assert meeting.status_code == 201, meeting.json()
    for subject, extra in (
        ("student", {}),
        ("guardian", {"guardian_name": "이보호", "relation": "모"}),
    ):
        response = coordinator.post(
            f"/api/v1/cases/{case_id}/consents/",
            {
                "subject": subject,
                "purposes": ["support"],
                "method": "written",
                "given_on": str(TODAY()),
                **extra,
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
    plan = coordinator.post(
        f"/api/v1/cases/{case_id}/plans/",
        {
            "goals": ["주 1회 상담"],
            "starts_on": str(TODAY()),
            "review_on": str(TODAY() + timedelta(days=30)),
        },
        format="json",
    ).json()
    assert (
        coordinator.post(f"/api/v1/plans/{plan['id']}/submit/", {}, format="json").status_code
        == 200
    )
    assert (
        coordinator.post(f"/api/v1/plans/{plan['id']}/approve/", {}, format="json").status_code
        == 403
    )
    approved = principal.post(f"/api/v1/plans/{plan['id']}/approve/", {}, format="json")
    assert approved.json()["status"] == "approved"
    active = coordinator.post(
        f"/api/v1/cases/{case_id}/transition/", {"to": "active"}, format="json"
    )
    assert active.status_code == 200 and active.json()["status"] == "active"


def test_guard_and_input_errors(world, opened_case):
    coordinator = api(world, "coordinator")
    guard = coordinator.post(
        f"/api/v1/cases/{opened_case.pk}/transition/", {"to": "active"}, format="json"
    )
    assert guard.status_code == 409 and guard.json()["code"] == "guard"
    missing = coordinator.post(
        f"/api/v1/cases/{opened_case.pk}/transition/", {"to": "closed"}, format="json"
    )
    assert missing.status_code == 400 and "closure_reason" in missing.json()
    forbidden = api(world, "vice").post(
        f"/api/v1/cases/{opened_case.pk}/transition/", {"to": "reviewing"}, format="json"
    )
    assert forbidden.status_code == 403
    second = coordinator.post(
        "/api/v1/cases/",
        {"student": str(opened_case.student.pk), "difficulties": ["health"]},
        format="json",
    )
    assert second.status_code == 409


def test_stale_patch_is_a_conflict(world, opened_case):
    coordinator = api(world, "coordinator")
    ok = coordinator.patch(
        f"/api/v1/cases/{opened_case.pk}/", {"version": 1, "risk_level": "crisis"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = coordinator.patch(
        f"/api/v1/cases/{opened_case.pk}/", {"version": 1, "risk_level": "urgent"}, format="json"
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert (
        coordinator.patch(
            f"/api/v1/cases/{opened_case.pk}/", {"risk_level": "urgent"}, format="json"
        ).status_code
        == 400
    )


SUBRESOURCES = [
    "",
    "team/",
    "notes/",
    "assessments/",
    "consents/",
    "plans/",
    "history/",
    "timeline/",
]


@pytest.mark.parametrize(
    "username", ["coordinator2", "teacher", "casemanager", "partner", "analyst", "privacy"]
)
def test_case_content_is_404_to_outsiders(world, opened_case, username):
    client = api(world, username)
    for sub in SUBRESOURCES:
        assert client.get(f"/api/v1/cases/{opened_case.pk}/{sub}").status_code == 404, sub
    assert (
        client.post(
            f"/api/v1/cases/{opened_case.pk}/transition/", {"to": "reviewing"}, format="json"
        ).status_code
        == 404
    )
    assert client.get("/api/v1/cases/").json()["count"] == 0


def test_teacher_sees_roster_fields_only(world, opened_case):
    body = api(world, "teacher").get("/api/v1/students/").json()
    assert set(body["results"][0]) == {"id", "name", "grade", "class_no", "number"}
    detail = api(world, "teacher").get(f"/api/v1/students/{opened_case.student.pk}/").json()
    assert "birth_date" not in detail
    full = api(world, "coordinator").get(f"/api/v1/students/{opened_case.student.pk}/").json()
    assert "birth_date" in full and "guardians" in full
    assert (
        api(world, "coordinator2").get(f"/api/v1/students/{opened_case.student.pk}/").status_code
        == 404
    )


def test_restricted_notes_over_the_api(world, opened_case):
    team.add_team_member(
        opened_case, by=world["coordinator"], user=world["counselor"], role="counsellor"
    )
    access.grant_case_to_lead_office(opened_case, world.nambu)
    records.add_note(
        opened_case,
        by=world["counselor"],
        kind="counselling",
        body="비공개",
        confidentiality="restricted",
    )
    records.add_note(opened_case, by=world["coordinator"], kind="call", body="공유")
    count = lambda u: api(world, u).get(f"/api/v1/cases/{opened_case.pk}/notes/").json()["count"]  # noqa: E731
    assert count("counselor") == 2 and count("coordinator") == 2
    assert count("principal") == 1 and count("casemanager") == 1


@pytest.mark.parametrize(
    ("path", "object_type"),
    [
        ("/api/v1/cases/", "case"),
        ("/api/v1/cases/{case}/", "case"),
        ("/api/v1/cases/{case}/notes/", "note"),
        ("/api/v1/cases/{case}/consents/", "consent"),
        ("/api/v1/cases/{case}/plans/", "plan"),
        ("/api/v1/cases/{case}/assessments/", "assessment"),
        ("/api/v1/cases/{case}/team/", "case_team"),
        ("/api/v1/cases/{case}/history/", "case_history"),
        ("/api/v1/cases/{case}/timeline/", "case_timeline"),
        ("/api/v1/students/", "student"),
        ("/api/v1/students/{student}/", "student"),
        ("/api/v1/concerns/", "concern"),
        ("/api/v1/meetings/", "meeting"),
    ],
)
def test_every_read_writes_one_access_event(world, opened_case, path, object_type):
    before = AccessEvent.objects.count()
    url = path.format(case=opened_case.pk, student=opened_case.student.pk)
    assert api(world, "coordinator").get(url).status_code == 200
    assert AccessEvent.objects.count() == before + 1
    event = AccessEvent.objects.order_by("-id").first()
    assert event.object_type == object_type and event.user == world["coordinator"]


def test_search_is_logged_as_search(world, opened_case):
    api(world, "coordinator").get(f"/api/v1/cases/?q={opened_case.student.name}")
    assert AccessEvent.objects.order_by("-id").first().action == "search"


def test_list_queries_do_not_grow(world, django_assert_max_num_queries):
    coordinator = api(world, "coordinator")

    def grow(n):
        for _ in range(n):
            student = StudentFactory(school=world.school)
            intake.raise_concern(by=world["teacher"], student=student, difficulties=["health"])
            select_case(
                world, intake.open_case(by=world["coordinator"], student=student, difficulties=[])
            )

    for size in (2, 8):
        grow(size)
        for url in ("/api/v1/cases/", "/api/v1/students/", "/api/v1/concerns/"):
            with django_assert_max_num_queries(16):
                assert coordinator.get(url).status_code == 200


def test_notifications_are_the_callers_own(world, opened_case):
    intake.raise_concern(by=world["teacher"], student=opened_case.student, difficulties=["health"])
    mine = api(world, "coordinator").get("/api/v1/notifications/?unread=1").json()
    assert mine["count"] >= 1
    notification_id = mine["results"][0]["id"]
    assert (
        api(world, "teacher").post(f"/api/v1/notifications/{notification_id}/read/").status_code
        == 404
    )
    read = api(world, "coordinator").post(f"/api/v1/notifications/{notification_id}/read/")
    assert read.status_code == 200 and read.json()["read_at"]


def test_instruments_are_listed(world):
    body = api(world, "coordinator").get("/api/v1/instruments/").json()
    assert body[0]["code"] == "needs_checklist"


# --- Roster import ---------------------------------------------------------------------------


def test_api_upload_and_job(world, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(world["coordinator"])
    upload = io.BytesIO(csv_bytes())
    upload.name = "roster.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/students/import/?dry_run=1", {"file": upload}, format="multipart"
        )
    assert response.status_code == 202
    job = client.get(f"/api/v1/jobs/{response.json()['job']}/").json()
    assert job["status"] == "succeeded" and job["progress"] == 100 and job["errors"] == []
    other = APIClient()
    other.force_authenticate(world["coordinator2"])
    assert other.get(f"/api/v1/jobs/{response.json()['job']}/").status_code == 404
    # A clean dry run keeps its file for the job page's one-click save (roster.CHECKED_FILE_KEPT).
    assert Job.objects.get().payload is not None
