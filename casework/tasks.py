"""Celery tasks. With no broker configured they run eagerly (the demo).

Each task is a thin wrapper: it takes ids or loads its rows and calls the function that does the
work. Nothing imports this module but Celery's autodiscovery (config/celery.py) and its tests:
code that starts a task names it (casework.queue.enqueue, CELERY_BEAT_SCHEDULE).
"""

import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import override

from . import audit, exporting
from .notify import delivery, digest
from .reports import facts
from .workflows import (
    consents,
    erasure,
    exports,
    jobs,
    memberships,
    reminders,
    retention,
    reviews,
    roster,
)
from .workflows import discovery as discovery_workflow

logger = logging.getLogger(__name__)


@shared_task(
    # Past the soft limit the import fails like any error (nothing saved); the hard limit kills
    # a worker stuck in C code, and the fail_stale_jobs sweep then ends its job.
    soft_time_limit=settings.ROSTER_IMPORT_TIME_LIMIT,
    time_limit=settings.ROSTER_IMPORT_TIME_LIMIT + 60,
)
def import_roster(job_id) -> str:
    """Validate a roster file and, unless it is a dry run, apply it all or nothing
    (casework/workflows/roster.py). Returns the job's status, or "skipped" when another delivery
    of the message already has the job."""
    job = jobs.claim_queued_job(job_id)
    if job is None:
        return "skipped"
    roster.run_roster_import(job)
    return job.status


@shared_task(
    soft_time_limit=settings.ACCESS_REVIEW_TIME_LIMIT,
    time_limit=settings.ACCESS_REVIEW_TIME_LIMIT + 60,
)
def build_access_review(job_id, month) -> str:
    """Build the monthly access-log review the officer asked for (casework/workflows/reviews.py)."""
    job = jobs.claim_queued_job(job_id)
    if job is None:
        return "skipped"
    reviews.run_review_job(job, month)
    return job.status


@shared_task(
    # Past the soft limit the export fails with its message; the hard limit kills a worker stuck
    # in the layout engine, and the fail_stale_jobs sweep then ends its job.
    soft_time_limit=settings.EXPORT_TIME_LIMIT,
    time_limit=settings.EXPORT_TIME_LIMIT + 60,
)
def build_export(job_id) -> str:
    """Make the file of an export the requester asked for (casework/exporting.py) and keep it on
    the job until it expires (casework/workflows/exports.py). Whatever goes wrong, the job ends
    failed with a message in the requester's language, never left running."""
    job = jobs.claim_queued_job(job_id)
    if job is None:
        return "skipped"
    try:
        made = exporting.build(job)
        exports.finish_export(
            job,
            content=made.content,
            file_name=made.file_name,
            content_type=made.content_type,
            rows=made.rows,
        )
    except Exception as error:
        with override(job.result.get("language") or settings.LANGUAGE_CODE):
            if isinstance(error, ObjectDoesNotExist):
                message = _("이 사례를 더 볼 수 없어 파일을 만들지 않았습니다.")
            elif isinstance(error, SoftTimeLimitExceeded):
                message = _(
                    "파일을 만드는 데 시간이 너무 오래 걸려 멈췄습니다. 조건을 좁혀 다시 요청해 주세요."
                )
            else:
                logger.exception("export %s failed", job.pk)
                message = _("파일을 만드는 중 오류가 생겼습니다. 잠시 뒤 다시 요청해 주세요.")
            exports.fail_export(job, message)
    return job.status


@shared_task(soft_time_limit=10 * 60, time_limit=11 * 60)
def refresh_report_facts() -> dict | None:
    """Every minute, and when a report finds its facts old: redo the report facts of the cases
    that changed (casework/reports/facts.py)."""
    return facts.refresh()


@shared_task(soft_time_limit=60 * 60, time_limit=61 * 60)
def rebuild_report_facts() -> dict | None:
    """Every night: redo every report fact (casework/reports/facts.py)."""
    return facts.rebuild()


@shared_task
def expire_exports() -> int:
    """Every quarter of an hour: destroy the export files past EXPORT_TTL_HOURS, each with a
    destruction record (casework/workflows/exports.py)."""
    return exports.expire_exports()


@shared_task(soft_time_limit=4 * 3600, time_limit=4 * 3600 + 300)
def apply_retention() -> dict:
    """Daily: anonymise what Decree 10 no longer lets us keep (casework/workflows/erasure.py)."""
    run = erasure.apply_retention()
    return {"anonymised": run.anonymised, "destroyed": run.destroyed}


@shared_task(soft_time_limit=4 * 3600, time_limit=4 * 3600 + 300)
def build_monthly_access_reviews() -> int:
    """Daily: on the first business day of a month, the previous month's review of every
    provincial office (other days do nothing)."""
    return len(reviews.build_monthly_reviews())


# --- Notification e-mail (casework/notify/delivery.py) ---------------------------------------


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
    return reminders.send_reminders()


@shared_task
def purge_referral_packets() -> int:
    """Destroy the packets of closed referrals whose agreement's retention has passed."""
    return retention.purge_expired_packets()


@shared_task
def send_daily_digest() -> int:
    """One e-mail per person with unread notifications from the last day, at most once a day
    (casework/notify/digest.py)."""
    return digest.send_daily_digest()


@shared_task
def lapse_expired_consents() -> int:
    """Daily, just after midnight: what relied on a consent whose last valid day has passed is
    cancelled and revoked, as on a withdrawal (casework/workflows/consents.py)."""
    return consents.lapse_expired_consents()


@shared_task
def drop_ended_membership_grants() -> int:
    """Daily, just after midnight: memberships whose last day has passed lose their holder's own
    case grants (casework/workflows/memberships.py)."""
    return memberships.drop_ended_membership_grants()


@shared_task
def anchor_access_log() -> int:
    """Daily: publish each month's access-log head outside the database (casework/audit).
    Returns the number of months anchored; a month that does not verify is logged and skipped."""
    return len(audit.publish_anchors().published)


@shared_task
def maintain_access_log_partitions() -> dict:
    """Daily: create the access log's monthly tables ahead and drop the months past
    ACCESS_LOG_YEARS, each with a destruction record (casework/audit/partitions.py)."""
    result = audit.partitions.maintain()
    return {"created": result.created, "dropped": result.dropped, "stranded": result.stranded}


@shared_task
def fail_stale_jobs() -> dict:
    """Every few minutes: publish again the jobs whose publish was lost (still queued after
    JOB_REQUEUE_AFTER_SECONDS), and fail jobs left queued or running by a worker that is gone
    (casework.workflows.jobs)."""
    failed = jobs.fail_stale_jobs()
    return {"failed": failed, "requeued": jobs.requeue_waiting_jobs()}


@shared_task
def drop_expired_checked_files() -> int:
    """Hourly: drop the kept file of a clean dry run not saved in time (workflows.roster)."""
    return roster.drop_expired_checked_files()


@shared_task(
    soft_time_limit=settings.ROSTER_IMPORT_TIME_LIMIT,
    time_limit=settings.ROSTER_IMPORT_TIME_LIMIT + 60,
)
def import_indicators(job_id) -> str:
    """Check an indicator file and, unless it is a dry run, store it and evaluate the school's
    rules (casework/workflows/discovery.py); "skipped" when another delivery has the job."""
    job = jobs.claim_queued_job(job_id)
    if job is None:
        return "skipped"
    discovery_workflow.run_indicator_import(job)
    return job.status


@shared_task
def evaluate_discovery_rules() -> dict:
    """Nightly: judge every school's indicators against its rules, set-based
    (casework/workflows/discovery.py)."""
    return discovery_workflow.evaluate()
