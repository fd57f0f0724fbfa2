"""Celery tasks. With no broker configured they run eagerly (the demo)."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import access, delivery, imports
from .models import Job
from .workflows.common import attribute

logger = logging.getLogger(__name__)


@shared_task(
    # Past the soft limit the import fails like any error (nothing saved); the hard limit kills
    # a worker stuck in C code, and the fail_stale_jobs sweep then ends its job.
    soft_time_limit=settings.ROSTER_IMPORT_TIME_LIMIT,
    time_limit=settings.ROSTER_IMPORT_TIME_LIMIT + 60,
)
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


# --- Notification e-mail (casework.delivery) -----------------------------------------------


class DeliveryIncomplete(Exception):
    """Some e-mails of the batch failed to send and may be tried again."""


@shared_task(
    bind=True,
    autoretry_for=(DeliveryIncomplete,),
    retry_backoff=30,
    retry_backoff_max=15 * 60,
    retry_jitter=True,
    # The row's own attempt counter decides when to give up; this only bounds the retries of
    # one message (the first run plus these reach NOTIFICATION_EMAIL_MAX_ATTEMPTS).
    max_retries=max(delivery.max_attempts() - 1, 0),
)
def deliver_notifications(self, ids) -> dict:
    """E-mail each pending notification in `ids` once. Safe to run again or twice at once: a
    row is claimed under a lock and only a pending row is sent. Failed sends stay pending and
    the task retries with backoff; a row that reaches the maximum attempts becomes failed."""
    outcome = delivery.deliver(ids)
    counts = {name: len(getattr(outcome, name)) for name in ("sent", "skipped", "failed", "retry")}
    if outcome.retry:
        # Autoretry re-runs the same ids; rows already sent are left alone.
        raise DeliveryIncomplete(f"{len(outcome.retry)} e-mail(s) to retry")
    return counts


@shared_task
def sweep_notifications(older_than_seconds: int | None = None) -> dict:
    """Every few minutes (CELERY_BEAT_SCHEDULE): hand pending notifications older than
    NOTIFICATION_SWEEP_AFTER_SECONDS to delivery again, so that a broker outage at commit time
    loses nothing."""
    older_than = None if older_than_seconds is None else timedelta(seconds=older_than_seconds)
    counts = delivery.sweep(older_than=older_than)
    if counts["found"]:
        logger.info("notification sweep: %s", counts)
    return counts


# --- Referral deadlines, retention and the daily digest (Celery beat: settings) --------------


@shared_task
def send_referral_reminders() -> int:
    """Reminders for overdue referrals, once per business day (casework/deadlines.py)."""
    from .workflows.referrals import send_reminders

    return send_reminders()


@shared_task
def purge_referral_packets() -> int:
    """Destroy the packets of closed referrals whose agreement's retention has passed."""
    from .workflows.referrals import purge_expired_packets

    return purge_expired_packets()


@shared_task
def send_daily_digest() -> int:
    """One e-mail per person with unread notifications from the last day, at most once a day
    (an EmailDigest row per person and day makes a second run send nothing)."""
    from datetime import timedelta

    from django.conf import settings
    from django.core.mail import send_mail
    from django.db import IntegrityError
    from django.utils import translation

    from .models import EmailDigest, Notification

    today = timezone.localdate()
    unread = (
        Notification.objects.filter(
            read_at__isnull=True, created_at__gte=timezone.now() - timedelta(days=1)
        )
        .exclude(recipient__email="")
        .filter(recipient__is_active=True)
        .select_related("recipient")
        .order_by("recipient_id", "-created_at")
    )
    by_user: dict = {}
    for row in unread:
        by_user.setdefault(row.recipient, []).append(row)
    sent = 0
    for user, rows in by_user.items():
        try:
            with transaction.atomic():
                digest = EmailDigest(recipient=user, day=today, count=len(rows))
                digest._change_reason = "일일 알림 요약"
                digest.save()
                with translation.override(delivery.language_of(user)):
                    subject = _("[이음] 읽지 않은 알림 %(n)s건") % {"n": len(rows)}
                    lines = [f"· {row.display_title}" for row in rows[:20]]
                    if len(rows) > 20:
                        lines.append(_("외 %(n)s건") % {"n": len(rows) - 20})
                    lines += ["", settings.IEUM_BASE_URL.rstrip("/") + "/casework/notifications/"]
                send_mail(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, [user.email])
        except IntegrityError:
            continue  # already sent today
        except Exception:
            logger.exception("daily digest for %s failed", user.pk)
            continue
        sent += 1
    return sent


@shared_task
def lapse_expired_consents() -> int:
    """Daily, just after midnight: what relied on a consent whose last valid day has passed is
    cancelled and revoked, as on a withdrawal (casework/workflows/referrals.py)."""
    from .workflows.referrals import lapse_expired_consents

    return lapse_expired_consents()


@shared_task
def drop_ended_membership_grants() -> int:
    """Daily, just after midnight: memberships whose last day has passed lose their holder's own
    case grants (casework/workflows/memberships.py)."""
    from .workflows.memberships import drop_ended_membership_grants

    return drop_ended_membership_grants()


@shared_task
def anchor_access_log() -> int:
    """Daily: publish each month's access-log head outside the database (casework/audit.py).
    Returns the number of months anchored; a month that does not verify is logged and skipped."""
    from .audit import publish_anchors

    return len(publish_anchors().published)


@shared_task
def fail_stale_jobs() -> int:
    """Fail jobs left queued or running by a worker that is gone (casework.workflows.jobs)."""
    from .workflows import jobs

    return jobs.fail_stale_jobs()
