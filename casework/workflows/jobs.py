"""Jobs the user watches (imports, exports): claiming a queued one for its worker, and ending the ones
whose worker is gone.

A worker killed at its time limit, or by the kernel for memory, leaves its job `running`, and a
job queued while no worker takes it waits forever; the page would show it moving for good. Past
JOB_STALE_AFTER_SECONDS (longer than any job's time limit) such a job is failed, with a message
that says to upload the file again (an export: to ask again). An import writes all or nothing in
one transaction, so a job that died saved nothing.

A job whose publish was lost (the broker was away when the request committed) is still `queued`
and saved nothing: past JOB_REQUEUE_AFTER_SECONDS the same sweep publishes it again. A second
delivery of one job is harmless: only the first `claim_queued_job` gets it.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework.models import AccessReview, Job
from casework.queue import publish

from .common import attribute

CHANGE_REASON = gettext_noop("멈춘 작업 정리")

# The task that runs each kind of job, by its registered name (casework.queue).
TASKS = {
    Job.Kind.ROSTER_IMPORT: "casework.tasks.import_roster",
    Job.Kind.EXPORT: "casework.tasks.build_export",
    Job.Kind.ACCESS_REVIEW: "casework.tasks.build_access_review",
}


def requeue_waiting_jobs(*, now=None) -> int:
    """Publish again the jobs queued more than JOB_REQUEUE_AFTER_SECONDS ago (and not yet
    stale); the count published. A broker still away leaves them queued for the next sweep."""
    now = now or timezone.now()
    waiting = Job.objects.filter(
        status=Job.Status.QUEUED,
        created_at__lt=now - timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS),
        created_at__gte=now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS),
    ).order_by("created_at")
    published = 0
    for job in waiting:
        name = TASKS.get(job.kind)
        if name is None:
            continue
        args = [str(job.pk)]
        if job.kind == Job.Kind.ACCESS_REVIEW:
            month = AccessReview.objects.filter(job=job).values_list("month", flat=True).first()
            if month is None:
                continue  # no review waits for it: the stale sweep ends it
            args.append(month.isoformat())
        published += publish(name, args)
    return published


def claim_queued_job(job_id) -> Job | None:
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


def fail_stale_jobs(*, now=None) -> int:
    """Fail queued or running jobs created more than JOB_STALE_AFTER_SECONDS ago; the count."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    messages = {
        Job.Status.QUEUED: _(
            "작업이 오래 시작되지 않아 취소했습니다. 아무것도 저장하지 않았으니 파일을 다시 올려 주세요."
        ),
        Job.Status.RUNNING: _(
            "작업이 제시간에 끝나지 않아 중단했습니다. 아무것도 저장하지 않았으니 파일을 다시 올려 주세요."
        ),
    }
    # An export saved nothing either, but there is no file to upload again: ask again.
    export_messages = {
        Job.Status.QUEUED: _(
            "내보내기 작업이 오래 시작되지 않아 취소했습니다. 파일은 만들지 않았으니 다시 요청해 주세요."
        ),
        Job.Status.RUNNING: _(
            "내보내기 작업이 제시간에 끝나지 않아 중단했습니다. 조건을 좁혀 다시 요청해 주세요."
        ),
    }
    with transaction.atomic():
        # A worker finishing the same job right now holds no lock on it; skip_locked keeps the
        # sweep from waiting on one that is saving its result.
        stale = list(
            Job.objects.select_for_update(skip_locked=True).filter(
                status__in=list(messages), created_at__lt=cutoff
            )
        )
        for job in stale:
            attribute(job, None, CHANGE_REASON)
            said = export_messages if job.kind == Job.Kind.EXPORT else messages
            job.errors = [{"row": None, "field": "", "message": str(said[job.status])}]
            job.status = Job.Status.FAILED
            job.payload = None  # the file holds personal data: not kept past the job
            job.finished_at = now
            job.save(update_fields=["status", "errors", "payload", "finished_at"])
    return len(stale)
