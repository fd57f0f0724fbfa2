"""Roster imports: who may start one, which files, the job that tracks it, and the job's run."""

import logging
import re
from datetime import timedelta
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import access, imports
from casework.models import Job
from casework.queue import publish
from partners.models import Organization, User

from .common import attribute
from .errors import GuardFailed

logger = logging.getLogger(__name__)

IMPORT_TASK = "casework.tasks.import_roster"  # enqueued by name (casework.queue)
MAX_BYTES = 5 * 1024 * 1024
EXTENSIONS = (".csv", ".xlsx")
ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive; an old .xls renamed is not
# A clean dry run keeps its file so that the job page can save it without a second upload; the
# file is personal data, so it goes when it is saved, or when this much time has passed.
CHECKED_FILE_KEPT = timedelta(hours=24)


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
    # The worker must find the job (and its file) committed before it starts. With the broker
    # away the upload still succeeds: the job stays queued and the job sweep publishes it again
    # (casework/workflows/jobs.py).
    transaction.on_commit(partial(publish, IMPORT_TASK, [str(job.pk)]), robust=True)
    return job


def may_save_checked(job: Job, *, now=None) -> bool:
    """Whether the job is a clean dry run whose file may still be saved from its page."""
    return (
        job.kind == Job.Kind.ROSTER_IMPORT
        and job.dry_run
        and job.status == Job.Status.SUCCEEDED
        and not job.result.get("saved_as")
        and job.payload is not None
        and job.finished_at is not None
        and job.finished_at > (now or timezone.now()) - CHECKED_FILE_KEPT
    )


@transaction.atomic
def save_checked_import(job: Job, *, by: User) -> Job:
    """Start the real import of a clean dry run's file, without a second upload: a new job,
    returned. The dry run gives its file to the new job and records it under
    `result["saved_as"]`, so that it is saved once."""
    checked = (
        Job.objects.select_for_update(of=("self",)).select_related("organization").get(pk=job.pk)
    )
    if checked.kind != Job.Kind.ROSTER_IMPORT or not checked.dry_run:
        raise GuardFailed(_("검사만 한 작업이 아니어서 여기서 저장할 수 없습니다."))
    if checked.result.get("saved_as"):
        raise GuardFailed(
            _("이 검사 결과는 이미 저장했습니다. 같은 파일을 두 번 저장하지 않습니다.")
        )
    if checked.status != Job.Status.SUCCEEDED:
        raise GuardFailed(
            _(
                "검사에서 오류가 나온 파일은 저장할 수 없습니다. 오류를 고친 파일을 다시 올려 주세요."
            )
        )
    if not may_save_checked(checked):
        raise GuardFailed(
            _("검사한 파일은 하루 동안만 보관합니다. 파일을 다시 올려 검사해 주세요.")
        )
    saved = start_roster_import(
        by=by,
        school=checked.organization,
        file_name=checked.file_name,
        data=bytes(checked.payload),
        dry_run=False,
    )
    checked.payload = None  # the new job holds the file now
    checked.result = {**checked.result, "saved_as": str(saved.pk)}
    attribute(checked, by)
    checked.save(update_fields=["payload", "result"])
    return saved


def drop_expired_checked_files(*, now=None) -> int:
    """Drop the files of dry runs not saved within CHECKED_FILE_KEPT; the count."""
    cutoff = (now or timezone.now()) - CHECKED_FILE_KEPT
    # `payload` is kept out of the job's history, so a plain update writes no history row.
    return Job.objects.filter(
        kind=Job.Kind.ROSTER_IMPORT, payload__isnull=False, finished_at__lt=cutoff
    ).update(payload=None)


def run_roster_import(job: Job) -> None:
    """Validate the running job's roster file and, unless it is a dry run, apply it all or
    nothing. The job shows progress while rows are checked and ends succeeded (with counts, and
    a preview for a dry run) or failed (with row errors). The uploaded file is dropped, except
    after a clean dry run (save_checked_import saves it). The job comes claimed
    (casework.workflows.jobs.claim_queued_job)."""
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
    if not (job.dry_run and job.status == Job.Status.SUCCEEDED):
        # The file holds personal data: keep it no longer than the work. Only a clean dry run
        # keeps it, for save_checked_import, until CHECKED_FILE_KEPT has passed.
        job.payload = None
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
