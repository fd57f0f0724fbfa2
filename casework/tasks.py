"""Celery tasks. With no broker configured they run eagerly (the demo)."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from . import imports
from .models import Job

PREVIEW_ROWS = 20


def _progress(job_id):
    def report(processed: int) -> None:
        # `processed` is a counter kept out of the job's history, so a plain update is right.
        Job.objects.filter(pk=job_id).update(processed=processed)

    return report


@shared_task
def import_roster(job_id) -> str:
    job = Job.objects.select_related("created_by", "organization").get(pk=job_id)
    if job.status != Job.Status.QUEUED:
        return job.status  # delivered twice: the first run did the work
    job._history_user = job.created_by  # no request in a task: name the actor explicitly
    job.status = Job.Status.RUNNING
    job.save(update_fields=["status"])
    parsed = imports.parse(bytes(job.payload or b""), job.file_name)
    job.total = len(parsed.rows)
    job.errors = parsed.errors
    if parsed.errors:
        job.status = Job.Status.FAILED
    elif job.dry_run:
        job.status = Job.Status.SUCCEEDED
        job.processed = job.total
        job.result = {
            "preview": [
                {
                    "row": r["row"],
                    "name": r["name"],
                    "grade": r["grade"],
                    "class_no": r["class_no"],
                    "number": r["number"],
                    "birth_date": r["birth_date"].isoformat(),
                    "sex": r["sex"],
                }
                for r in parsed.rows[:PREVIEW_ROWS]
            ],
            "rows": job.total,
        }
    else:
        job.save(update_fields=["total"])
        with transaction.atomic():  # all or nothing
            applied = imports.apply(
                parsed.rows,
                school=job.organization,
                by=job.created_by,
                progress=_progress(job.pk),
            )
        job.status = Job.Status.SUCCEEDED
        job.processed = job.total
        job.result = {
            "created": applied.created,
            "updated": applied.updated,
            "unchanged": applied.unchanged,
        }
    job.payload = None  # the file holds personal data: keep it no longer than the work
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "total", "processed", "errors", "result", "payload", "finished_at"]
    )
    return job.status
