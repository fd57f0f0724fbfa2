"""The export job (casework.tasks.build_export): whatever goes wrong it ends failed with a
message, never left running; the stale-job sweep ends an export with words of its own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework import exporting, tasks
from casework.models import Job
from casework.workflows import jobs

from .conftest import REASON

pytestmark = pytest.mark.django_db


def queued(world, kind="case_list", params=None) -> Job:
    return Job.objects.create(
        kind=Job.Kind.EXPORT,
        created_by=world["coordinator"],
        organization=world.school,
        reason=REASON,
        result={"export": kind, "params": params or {}, "language": "ko"},
    )


def test_an_error_while_making_the_file_fails_the_job_with_a_message(world, monkeypatch):
    def broken(job):
        raise RuntimeError("layout engine exploded")

    monkeypatch.setattr(exporting, "build", broken)
    job = queued(world)
    assert tasks.build_export(str(job.pk)) == "failed"
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.finished_at and job.payload is None
    assert "다시 요청" in job.errors[0]["message"]


def test_a_case_no_longer_visible_fails_the_job_saying_so(world, opened_case):
    job = queued(world, "case_summary", {"case": str(opened_case.pk)})
    job.created_by = world["coordinator2"]
    job.organization = world.other_school
    job.save()
    assert tasks.build_export(str(job.pk)) == "failed"
    job.refresh_from_db()
    assert "볼 수 없어" in job.errors[0]["message"]


def test_a_second_delivery_of_the_message_is_skipped(world):
    job = queued(world)
    assert tasks.build_export(str(job.pk)) == "succeeded"
    assert tasks.build_export(str(job.pk)) == "skipped"


def test_the_task_has_the_export_time_limits(settings):
    assert tasks.build_export.soft_time_limit == settings.EXPORT_TIME_LIMIT
    assert tasks.build_export.time_limit > settings.EXPORT_TIME_LIMIT


def test_the_beat_schedule_expires_exports(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["expire-exports"]
    assert entry["task"] == "casework.tasks.expire_exports"
    assert tasks.expire_exports() == 0


@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.RUNNING])
def test_the_stale_sweep_asks_for_an_export_again(world, status):
    job = queued(world)
    old = timezone.now() - timedelta(hours=2)
    Job.objects.filter(pk=job.pk).update(status=status, created_at=old)
    assert jobs.fail_stale_jobs() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    message = job.errors[0]["message"]
    assert "내보내기" in message and "다시 요청" in message and "올려" not in message
