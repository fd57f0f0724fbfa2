"""A broker outage while jobs are queued: the request still succeeds, the job stays queued, and
the job sweep publishes it again once the broker answers. Every task has a time limit."""

from datetime import timedelta

import pytest
from celery import current_app
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from casework.models import Job
from casework.queue import registered_task
from casework.workflows import jobs
from tests.builders import DEAD_BROKER, broker, csv_bytes


def upload(world):
    client = APIClient()
    client.force_authenticate(world["coordinator"])
    return client.post(
        "/api/v1/students/import/",
        {"file": SimpleUploadedFile("roster.csv", csv_bytes(), content_type="text/csv")},
        format="multipart",
    )


@pytest.mark.django_db(transaction=True)  # the request's own commit runs its on_commit publish
def test_roster_import_during_a_broker_outage_is_accepted_and_picked_up_later(world, caplog):
    with broker(DEAD_BROKER):
        answer = upload(world)
        assert answer.status_code == 202, answer.content
        job = Job.objects.get(pk=answer.json()["job"])
        assert job.status == Job.Status.QUEUED
        assert "its sweep picks it up" in caplog.text
        # Still away at the next sweep: the job waits, nothing fails.
        later = timezone.now() + timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS + 1)
        assert jobs.requeue_waiting_jobs(now=later) == 0
        job.refresh_from_db()
        assert job.status == Job.Status.QUEUED

    # The broker is back (eager here: the published task runs at once).
    assert jobs.requeue_waiting_jobs(now=timezone.now()) == 0  # too young to publish again
    assert jobs.requeue_waiting_jobs(now=later) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.errors
    assert job.payload is None


@pytest.mark.django_db
def test_jobs_waiting_too_long_are_failed_not_published(world):
    job = Job.objects.create(
        kind=Job.Kind.ROSTER_IMPORT, created_by=world["coordinator"], organization=world.school
    )
    running = Job.objects.create(
        kind=Job.Kind.ROSTER_IMPORT,
        created_by=world["coordinator"],
        organization=world.school,
        status=Job.Status.RUNNING,
    )
    much_later = timezone.now() + timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 1)
    assert jobs.requeue_waiting_jobs(now=much_later) == 0
    assert jobs.fail_stale_jobs(now=much_later) == 2
    for row in (job, running):
        row.refresh_from_db()
        assert row.status == Job.Status.FAILED


def test_the_job_sweep_runs_every_few_minutes():
    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith(".fail_stale_jobs")
    )
    assert entry["schedule"] <= settings.JOB_REQUEUE_AFTER_SECONDS
    assert settings.JOB_REQUEUE_AFTER_SECONDS < settings.JOB_STALE_AFTER_SECONDS


def test_every_task_has_a_soft_and_a_hard_time_limit():
    registered_task("casework.tasks.fail_stale_jobs")  # imports every tasks module
    conf = current_app.conf
    ours = [name for name in current_app.tasks if not name.startswith("celery.")]
    assert ours
    for name in ours:
        task = current_app.tasks[name]
        soft = task.soft_time_limit or conf.task_soft_time_limit
        hard = task.time_limit or conf.task_time_limit
        assert soft and hard and soft < hard, (name, soft, hard)
