"""E-mail delivery of notifications (the outbox's reader).

`notify()` (outbox.py) writes Notification rows in the business transaction and, once it
commits, hands their ids to Celery (`schedule`). The `deliver_notifications` task calls
`deliver()`, which claims each pending row in a transaction of its own (committed before the
send: the attempt is counted and `emailed_at` marks the claim), sends one e-mail and records the
outcome with history. A row that is already sent, failed or skipped, or claimed less than
NOTIFICATION_CLAIM_TIMEOUT_SECONDS ago, is left alone, so running a delivery twice, two deliveries
at once, or the broker's redelivery of a task whose worker was killed mid-send, sends one e-mail.
A claim whose worker died is tried again once it times out, with the same `Message-ID` (derived
from the notification's id), so that mail systems drop a repeat of an e-mail that did go out
(docs/operations.md, "전달 보장 / Delivery guarantees"). Rows whose publish was lost (broker down
at commit) stay pending until `sweep()` picks them up.
"""

import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from casework.models import Notification
from casework.queue import enqueue

logger = logging.getLogger(__name__)

Status = Notification.EmailStatus

DELIVER_TASK = "casework.tasks.deliver_notifications"  # enqueued by name (casework.queue)


def max_attempts() -> int:
    return int(getattr(settings, "NOTIFICATION_EMAIL_MAX_ATTEMPTS", 5))


def sweep_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "NOTIFICATION_SWEEP_AFTER_SECONDS", 120)))


def claim_timeout() -> timedelta:
    """How long a claimed row is left to the worker that claimed it: far longer than one send
    (EMAIL_TIMEOUT) can take, so that a claim past it belongs to a worker that is gone."""
    return timedelta(seconds=int(getattr(settings, "NOTIFICATION_CLAIM_TIMEOUT_SECONDS", 15 * 60)))


def message_id(row: Notification) -> str:
    """The e-mail's Message-ID: the same for every send of one notification."""
    domain = getattr(settings, "EMAIL_MESSAGE_ID_DOMAIN", "") or (
        urlsplit(settings.IEUM_BASE_URL).hostname or "localhost"
    )
    return f"<notification-{row.pk}@{domain}>"


def send_mail(subject, message, from_email, recipient_list, *, fail_silently=False, headers=None):
    """django.core.mail.send_mail, with headers (the Message-ID)."""
    email = EmailMessage(subject, message, from_email, recipient_list, headers=headers)
    return email.send(fail_silently=fail_silently)


def _claimable(now=None) -> Q:
    """Pending rows nobody has claimed, or whose claim has timed out (its worker is gone)."""
    cutoff = (now or timezone.now()) - claim_timeout()
    return Q(email_status=Status.PENDING) & (Q(emailed_at__isnull=True) | Q(emailed_at__lt=cutoff))


def batch_size() -> int:
    return int(getattr(settings, "NOTIFICATION_DELIVERY_BATCH", 100))


@dataclass
class Outcome:
    """What one delivery run did, by notification id (as strings)."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # gave up: attempts reached the maximum
    retry: list[str] = field(default_factory=list)  # sending failed; still pending
    untouched: list[str] = field(default_factory=list)  # not pending, gone, or held elsewhere


# --- Publishing ------------------------------------------------------------------------------

_suspended: ContextVar[bool] = ContextVar("notification_email_suspended", default=False)


@contextmanager
def suspended() -> Iterator[None]:
    """Notifications created inside this block stay in-app only: they are written as `skipped`
    and never e-mailed (bulk loads such as the demo seed)."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


def is_suspended() -> bool:
    return _suspended.get()


def schedule(ids: Iterable) -> bool:
    """Hand a batch of notifications to the delivery task. Called from `transaction.on_commit`,
    so it must never raise into the request that committed: when the broker is down it logs a
    warning and leaves the rows pending for the sweep. Returns whether the batch was published."""
    ids = [str(pk) for pk in ids]
    if not ids:
        return True
    try:
        # No publish retries: a dead broker answers within the connection timeout, and the
        # sweep, not the web request, is what waits for it to come back.
        enqueue(DELIVER_TASK, [ids], retry=False)
    except Exception:
        logger.warning(
            "could not hand %d notification(s) to e-mail delivery; they stay pending for the sweep",
            len(ids),
            exc_info=True,
        )
        return False
    return True


# --- Delivery --------------------------------------------------------------------------------


def deliver(ids: Iterable) -> Outcome:
    """Send the e-mail for each pending notification in `ids`, one row transaction each."""
    outcome = Outcome()
    for pk in dict.fromkeys(str(pk) for pk in ids):
        try:
            uuid.UUID(pk)
        except ValueError:
            logger.warning("ignoring malformed notification id %r", pk)
            outcome.untouched.append(pk)
            continue
        getattr(outcome, _deliver_one(pk)).append(pk)
    return outcome


def _deliver_one(pk: str) -> str:
    row = _claim(pk)
    if isinstance(row, str):
        return row
    try:
        subject, message = render(row)
        send_mail(
            subject,
            message,
            settings.DEFAULT_FROM_EMAIL,
            [row.recipient.email],
            fail_silently=False,
            headers={"Message-ID": message_id(row)},
        )
    except Exception as exc:
        with transaction.atomic():
            row.emailed_at = None  # not claimed any more: the retry may take it at once
            if row.email_attempts >= max_attempts():
                logger.error(
                    "giving up e-mail for notification %s after %d attempts: %s",
                    pk,
                    row.email_attempts,
                    exc,
                )
                record_outcome(row, Status.FAILED, _("이메일 발송 실패 (재시도 횟수 초과)"))
                return "failed"
            logger.warning(
                "e-mail for notification %s failed (attempt %d): %s", pk, row.email_attempts, exc
            )
            record_outcome(row, Status.PENDING, _("이메일 발송 실패, 다시 시도함"))
            return "retry"
    with transaction.atomic():
        row.emailed_at = timezone.now()
        record_outcome(row, Status.SENT, _("이메일 발송"))
    return "sent"


def _claim(pk: str) -> Notification | str:
    """Claim the row for this worker and commit the claim before anything is sent: the attempt
    is counted and `emailed_at` set to the claim's time. Answers the row, or the outcome when
    there is nothing to send ("untouched", "skipped")."""
    with transaction.atomic():
        rows = Notification.objects.filter(_claimable(), pk=pk)
        if connection.features.has_select_for_update_skip_locked:
            # A row another delivery holds is skipped: that delivery sends it.
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        row = rows.select_related("recipient").first()
        if row is None:
            return "untouched"
        recipient = row.recipient
        if not recipient.email:
            record_outcome(row, Status.SKIPPED, _("이메일 주소가 없어 보내지 않음"))
            return "skipped"
        if not recipient.is_active:
            record_outcome(row, Status.SKIPPED, _("비활성 계정이라 보내지 않음"))
            return "skipped"
        row.email_attempts += 1
        row.emailed_at = timezone.now()
        record_outcome(row, Status.PENDING, _("이메일 발송 시작"))
    return row


def record_outcome(row: Notification, status: str, reason: str) -> None:
    """Save the delivery state with a history row. No person acts here: the history user stays
    empty and the reason names the step."""
    row.email_status = status
    row._history_user = None
    row._change_reason = str(reason)[:100]
    row.save(update_fields=["email_status", "email_attempts", "emailed_at"])


def language_of(user) -> str:
    """The language to write to `user` in: their own choice where one is recorded, else Korean
    (the site default)."""
    chosen = getattr(user, "language", "") or ""
    codes = {code for code, _name in settings.LANGUAGES}
    return chosen if chosen in codes else settings.LANGUAGE_CODE


def absolute_url(url: str) -> str:
    if not url:
        return ""
    if url.startswith(("http://", "https://")):
        return url
    return f"{settings.IEUM_BASE_URL.rstrip('/')}/{url.lstrip('/')}"


def render(row: Notification) -> tuple[str, str]:
    """Subject and plain-text body of the e-mail for `row`, in the recipient's language (the
    notification's text too: it is rendered here from its params, not taken as stored)."""
    with translation.override(language_of(row.recipient)):
        subject = _("[이음] %(title)s") % {"title": row.display_title}
        body = row.display_body.strip()
        parts = [body] if body else []
        link = absolute_url(row.url)
        if link:
            parts.append(_("바로 가기: %(link)s") % {"link": link})
        parts.append(_("이 메일은 이음에서 자동으로 보냈습니다. 회신하지 마세요."))
    # A header may not hold a line break.
    return " ".join(subject.split()), "\n\n".join(parts) + "\n"


# --- Sweep -----------------------------------------------------------------------------------


def stale_pending_ids(now=None, *, older_than: timedelta | None = None) -> list[str]:
    """Pending notifications created more than `older_than` ago that may still be tried."""
    cutoff = (now or timezone.now()) - (sweep_after() if older_than is None else older_than)
    return [
        str(pk)
        for pk in Notification.objects.filter(
            _claimable(now),
            email_attempts__lt=max_attempts(),
            created_at__lte=cutoff,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[: int(getattr(settings, "NOTIFICATION_SWEEP_LIMIT", 5000))]
    ]


def give_up_dead_claims(now=None) -> int:
    """Rows whose last allowed attempt was claimed by a worker that died: failed, since no
    attempt is left (whether that e-mail went out is not known). The count."""
    rows = Notification.objects.filter(
        _claimable(now), emailed_at__isnull=False, email_attempts__gte=max_attempts()
    )
    given_up = 0
    for pk in rows.values_list("pk", flat=True):
        with transaction.atomic():
            row = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(_claimable(now), pk=pk)
                .first()
            )
            if row is None:
                continue
            row.emailed_at = None
            record_outcome(row, Status.FAILED, _("이메일 발송 실패 (재시도 횟수 초과)"))
            given_up += 1
    return given_up


def sweep(now=None, *, older_than: timedelta | None = None) -> dict[str, int]:
    """Re-enqueue stale pending notifications in batches; a batch that cannot be published (the
    broker is down again) is delivered here instead. Returns counts for the log."""
    given_up = give_up_dead_claims(now)
    if given_up:
        logger.warning("gave up %d notification e-mail(s) whose last claim's worker died", given_up)
    ids = stale_pending_ids(now, older_than=older_than)
    counts = {"found": len(ids), "enqueued": 0, "delivered_inline": 0}
    size = batch_size()
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        if schedule(batch):
            counts["enqueued"] += len(batch)
        else:
            deliver(batch)
            counts["delivered_inline"] += len(batch)
    return counts
