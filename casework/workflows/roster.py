"""Roster imports: who may start one, which files, the job that tracks it, and the job's run."""

import logging
import re
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import access, imports
from casework.models import Job
from casework.queue import enqueue
from partners.models import Organization, User

from .common import attribute

logger = logging.getLogger(__name__)

IMPORT_TASK = "casework.tasks.import_roster"  # enqueued by name (casework.queue)
MAX_BYTES = 5 * 1024 * 1024
EXTENSIONS = (".csv", ".xlsx")
ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive; an old .xls renamed is not


@transaction.atomic
def start_roster_import(
    *, by: User, school: Organization, file_name: str, data: bytes, dry_run: bool
) -> Job:
    """Queue an import of `data` into `school`'s roster; the job reports progress and errors.
    Only the school's coordinator (학생맞춤통합지원 담당자) keeps the roster."""
    if not access.keeps_roster(by, school):
        raise PermissionDenied(_("학생 명부는 학교의 담당자가 가져옵니다."))
    # Browsers on Windows may send the whole client path.
    file_name = re.split(r"[\\/]", file_name or "")[-1].strip()
    if not file_name.lower().endswith(EXTENSIONS):
        raise ValidationError({"file": _("CSV 또는 XLSX 파일만 올릴 수 있습니다.")})
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": _("파일이 너무 큽니다 (최대 5MB).")})
    if not data:
        raise ValidationError({"file": _("빈 파일입니다.")})
    if file_name.lower().endswith(".xlsx") and not data.startswith(ZIP_MAGIC):
        raise ValidationError(
            {"file": _("XLSX 파일이 아닙니다. 엑셀에서 'Excel 통합 문서(.xlsx)'로 저장해 주세요.")}
        )
    job = Job(
        kind=Job.Kind.ROSTER_IMPORT,
        created_by=by,
        organization=school,
        dry_run=dry_run,
        file_name=file_name[-255:],
        payload=data,
    )
    attribute(job, by)
    job.save()
    # The worker must find the job (and its file) committed before it starts.
    transaction.on_commit(partial(enqueue, IMPORT_TASK, [str(job.pk)]))
    return job


def run_roster_import(job: Job) -> None:
    """Validate the running job's roster file and, unless it is a dry run, apply it all or
    nothing. The job shows progress while rows are checked and ends succeeded (with counts, and
    a preview for a dry run) or failed (with row errors); either way the uploaded file is
    dropped. The job comes claimed (casework.workflows.jobs.claim_queued_job)."""
    try:
        _import_file(job)
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


def _import_file(job: Job) -> None:
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
    if not access.keeps_roster(by, school):
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
