"""Celery tasks. With no broker configured they run eagerly (the demo)."""

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.choices import Role

from . import access, imports
from .models import Job
from .workflows.common import attribute

logger = logging.getLogger(__name__)


@shared_task
def import_roster(job_id) -> str:
    """Validate a roster file and, unless it is a dry run, apply it all or nothing. The job
    shows progress while rows are checked and ends succeeded (with counts, and a preview for a
    dry run) or failed (with row errors); either way the uploaded file is dropped."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    try:
        _run_roster_import(job)
    except Exception:
        # Whatever went wrong, the transaction rolled back: say so, and do not keep the file.
        logger.exception("roster import %s failed", job.pk)
        job.status = Job.Status.FAILED
        job.result = {}
        job.errors = [
            {
                "row": 1,
                "field": "",
                "message": _(
                    "가져오는 중 예상하지 못한 오류가 생겨 아무것도 저장하지 않았습니다. 잠시 뒤 다시 올려 주세요."
                ),
            }
        ]
    job.payload = None  # the file holds personal data: keep it no longer than the work
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "total", "processed", "errors", "result", "payload", "finished_at"]
    )
    return job.status


def _claim(job_id) -> Job | None:
    """Mark the job running, or None if another delivery of the message already has it."""
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(of=("self",))
            .select_related("created_by", "organization")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.status != Job.Status.QUEUED:
            return None
        attribute(job, job.created_by)  # no request in a task: name the actor explicitly
        job.status = Job.Status.RUNNING
        job.save(update_fields=["status"])
    return job


def _run_roster_import(job: Job) -> None:
    school, by = job.organization, job.created_by

    def report(processed: int, total: int) -> None:
        if total != job.total:
            job.total = total
            job.save(update_fields=["total"])
        if processed:
            # `processed` is kept out of the job's history, so a plain update is right; it runs
            # outside the import's transaction so that a watching page sees it move.
            Job.objects.filter(pk=job.pk).update(processed=processed)

    # The uploader may have lost the role since the upload (membership ended, approval lapsed).
    if access.acting_membership(by, school, [Role.COORDINATOR]) is None:
        job.status = Job.Status.FAILED
        job.errors = [
            {"row": 1, "field": "", "message": _("학생 명부는 학교의 담당자가 가져옵니다.")}
        ]
        return

    parsed = imports.parse(bytes(job.payload or b""), job.file_name, school=school, progress=report)
    job.total = job.processed = parsed.total
    if parsed.errors:
        job.status, job.errors = Job.Status.FAILED, imports.capped(parsed.errors)
        return
    if job.dry_run:
        plan = imports.plan_import(parsed, school=school)
    else:
        plan = imports.apply_import(parsed, school=school, by=by)
    if plan.errors:
        job.status, job.errors = Job.Status.FAILED, imports.capped(plan.errors)
        return
    job.status = Job.Status.SUCCEEDED
    job.result = plan.counts
    if job.dry_run:
        job.result |= {"rows": parsed.total, "preview": imports.preview(parsed, plan)}
