"""POST /api/v1/exports/ and the job's download (API.md "Reports and exports"): a reason is
required, the job is the requester's alone, each download is an access event `download` with
the reason, and after EXPORT_TTL_HOURS the file is destroyed with a record and answers 410."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework.models import AccessEvent, DestructionRecord, Job
from casework.workflows import exports
from tests.builders import DEAD_BROKER, broker

from .conftest import REASON

pytestmark = pytest.mark.django_db
URL = "/api/v1/exports/"


def post(client, body, capture):
    with capture(execute=True):
        return client.post(URL, body, format="json")


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "case_list", "params": {}},
        {"kind": "case_list", "params": {}, "reason": ""},
        {"kind": "case_list", "params": {}, "reason": "   "},
        {"kind": "case_list", "params": {}, "reason": None},
        {"kind": "case_list", "params": {}, "reason": "x" * 501},
    ],
)
def test_a_reason_is_required(api, body, django_capture_on_commit_callbacks):
    answer = post(api("coordinator"), body, django_capture_on_commit_callbacks)
    assert answer.status_code == 400
    assert "사유" in answer.json()["reason"][0]
    assert not Job.objects.filter(kind=Job.Kind.EXPORT).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "report", "params": {}, "reason": REASON}, "params"),
        ({"kind": "everything", "reason": REASON}, "kind"),
        ({"reason": REASON}, "kind"),
        ({"kind": "case_list", "params": {"bogus": "1"}, "reason": REASON}, "params"),
        ({"kind": "case_list", "params": {"status": "nonsense"}, "reason": REASON}, "params"),
        ({"kind": "case_list", "params": "status=closed", "reason": REASON}, "params"),
        ({"kind": "case_summary", "params": {}, "reason": REASON}, "params"),
        ({"kind": "case_summary", "params": {"case": "not-an-id"}, "reason": REASON}, "params"),
        ({"kind": "referral_list", "params": {"box": "attic"}, "reason": REASON}, "params"),
    ],
)
def test_unknown_kinds_and_bad_params_are_field_errors(
    api, body, field, django_capture_on_commit_callbacks
):
    answer = post(api("coordinator"), body, django_capture_on_commit_callbacks)
    assert answer.status_code == 400
    assert field in answer.json()
    assert not Job.objects.filter(kind=Job.Kind.EXPORT).exists()


def test_a_body_that_is_not_an_object_is_a_400(api, django_capture_on_commit_callbacks):
    answer = post(api("coordinator"), ["case_list"], django_capture_on_commit_callbacks)
    assert answer.status_code == 400
    assert answer.json()["detail"] == "요청 본문은 JSON 객체여야 합니다."


def test_a_case_the_requester_cannot_see_is_not_found(
    api, noted_case, django_capture_on_commit_callbacks
):
    body = {"kind": "case_summary", "params": {"case": str(noted_case.pk)}, "reason": REASON}
    answer = post(api("coordinator2"), body, django_capture_on_commit_callbacks)
    assert answer.status_code == 404
    assert not Job.objects.filter(kind=Job.Kind.EXPORT).exists()


def test_someone_without_a_membership_may_not_export(api, django_capture_on_commit_callbacks):
    body = {"kind": "case_list", "params": {}, "reason": REASON}
    answer = post(api("admin"), body, django_capture_on_commit_callbacks)
    assert answer.status_code == 403


def test_the_job_answers_202_and_its_download_once_made(
    api, noted_case, django_capture_on_commit_callbacks
):
    client = api("coordinator")
    body = {"kind": "case_list", "params": {"status": "reviewing"}, "reason": REASON}
    answer = post(client, body, django_capture_on_commit_callbacks)
    assert answer.status_code == 202
    asked = answer.json()["job"]
    assert asked["kind"] == "export" and asked["reason"] == REASON
    assert asked["status"] == "queued" and asked["download"] is None  # made after the answer
    job = client.get(f"/api/v1/jobs/{asked['id']}/").json()
    assert job["status"] == "succeeded" and job["expires_at"]
    assert job["download"] == f"http://testserver/api/v1/jobs/{asked['id']}/download/"


def test_a_roster_job_has_no_download(api, world):
    job = Job.objects.create(
        kind=Job.Kind.ROSTER_IMPORT, created_by=world["coordinator"], organization=world.school
    )
    assert api("coordinator").get(f"/api/v1/jobs/{job.pk}/").json()["download"] is None
    assert api("coordinator").get(f"/api/v1/jobs/{job.pk}/download/").status_code == 404


def test_each_download_is_an_access_event_with_the_reason(api, made, noted_case):
    job = made("coordinator", "case_summary", {"case": str(noted_case.pk)})
    client = api("coordinator")
    for _ in range(2):
        answer = client.get(f"/api/v1/jobs/{job.pk}/download/")
        assert answer.status_code == 200
        assert answer["Content-Type"] == "application/pdf"
        assert answer["Content-Disposition"].startswith("attachment;")
        assert answer["Cache-Control"] == "no-store"
    events = AccessEvent.objects.filter(action="download", object_type="export")
    assert events.count() == 2
    assert {e.reason for e in events} == {REASON}
    assert {e.case_id for e in events} == {noted_case.pk}
    assert all(e.object_ids == [str(job.pk)] for e in events)


def test_making_the_file_is_an_export_event_with_the_reason(made, noted_case):
    made("coordinator", "case_summary", {"case": str(noted_case.pk)})
    event = AccessEvent.objects.get(action="export", object_type="case")
    assert event.reason == REASON and event.object_ids == [str(noted_case.pk)]


@pytest.mark.parametrize("username", ["teacher", "vice", "principal", "coordinator2", "analyst"])
def test_another_users_export_is_not_found(api, made, username):
    job = made("coordinator", "case_list")
    client = api(username)
    assert client.get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/api/v1/jobs/{job.pk}/download/").status_code == 404
    assert not AccessEvent.objects.filter(action="download").exists()


def test_expiry_destroys_the_file_with_a_record_and_the_download_answers_410(api, made):
    job = made("coordinator", "case_list")
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert exports.expire_exports() == 1
    job.refresh_from_db()
    assert job.payload is None and job.result["expired"] is True
    record = DestructionRecord.objects.get(object_id=job.pk)
    assert record.rule == DestructionRecord.Rule.EXPORT_EXPIRY
    assert record.object_type == "export" and record.parts == ["file"]
    answer = api("coordinator").get(f"/api/v1/jobs/{job.pk}/download/")
    assert answer.status_code == 410
    assert "파기" in answer.json()["detail"]
    assert api("coordinator").get(f"/api/v1/jobs/{job.pk}/").json()["download"] is None
    assert not AccessEvent.objects.filter(action="download").exists()
    assert exports.expire_exports() == 0  # once


def test_a_file_past_its_time_answers_410_before_the_sweep(api, made):
    job = made("coordinator", "case_list")
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api("coordinator").get(f"/api/v1/jobs/{job.pk}/download/").status_code == 410


def test_a_broker_outage_leaves_the_job_queued(api, django_capture_on_commit_callbacks, caplog):
    body = {"kind": "case_list", "params": {}, "reason": REASON}
    with broker(DEAD_BROKER):
        answer = post(api("coordinator"), body, django_capture_on_commit_callbacks)
    assert answer.status_code == 202
    assert answer.json()["job"]["status"] == "queued"
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert job.status == Job.Status.QUEUED and job.payload is None
    assert "could not publish casework.tasks.build_export" in caplog.text
    download = api("coordinator").get(f"/api/v1/jobs/{job.pk}/download/")
    assert download.status_code == 409
