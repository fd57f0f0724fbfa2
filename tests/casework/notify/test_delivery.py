"""E-mail delivery of notifications: the outbox is published after commit, delivered once per row,
retried with backoff, swept when the broker was down, and never breaks the request that wrote it."""

import smtplib
import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from casework import tasks
from casework.models import Notification
from casework.notify import delivery, notify
from config.celery import app as celery_app
from tests import factories
from tests.builders import DEAD_BROKER, broker

S = Notification.EmailStatus


def _notify(*users, **kwargs):
    kwargs.setdefault("kind", "team_added")
    kwargs.setdefault("params", {"name": "김하늘", "number": "2026-S0001-0001"})
    kwargs.setdefault("url", "/casework/cases/1/")
    return notify(users, **kwargs)


def _ids(rows):
    return [str(row.pk) for row in rows]


def _refresh(rows):
    return [Notification.objects.get(pk=row.pk) for row in rows]


@pytest.fixture
def people(db):
    return factories.UserFactory(username="receiver"), factories.UserFactory(username="other")


# --- Scheduling after commit ------------------------------------------------------------------


def test_notify_publishes_one_task_per_batch_after_commit(
    people, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(tasks.deliver_notifications, "apply_async") as publish,
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        rows = _notify(*people)
        publish.assert_not_called()  # nothing leaves before the commit
    assert len(callbacks) == 1
    with mock.patch.object(tasks.deliver_notifications, "apply_async") as publish:
        callbacks[0]()
    publish.assert_called_once_with(args=[_ids(rows)], retry=False)


def test_commit_delivers_the_email(people, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rows = _notify(*people)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in people)
    for row in _refresh(rows):
        assert row.email_status == S.SENT
        assert row.email_attempts == 1
        assert row.emailed_at is not None


def test_rolled_back_notifications_are_never_scheduled(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _notify(*people)
        raise RuntimeError("the business transaction fails")
    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_suspended_notifications_stay_in_app(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, delivery.suspended():
        rows = _notify(*people)
    assert callbacks == []
    assert mailoutbox == []
    assert {row.email_status for row in _refresh(rows)} == {S.SKIPPED}
    assert delivery.is_suspended() is False


# --- The e-mail ---------------------------------------------------------------------------------


def test_email_has_title_body_and_absolute_link(people, mailoutbox, settings):
    settings.IEUM_BASE_URL = "https://ieum.example.kr/"
    (row,) = _notify(
        people[0],
        kind="plan_returned",
        body="목표를 구체적으로 적어 주세요",
        url="/casework/cases/1/",
    )
    delivery.deliver([row.pk])
    (mail,) = mailoutbox
    assert mail.to == [people[0].email]
    assert mail.from_email == settings.DEFAULT_FROM_EMAIL
    assert mail.subject == "[이음] 김하늘 학생(2026-S0001-0001) 지원 계획 반려"
    assert "목표를 구체적으로 적어 주세요" in mail.body
    assert "https://ieum.example.kr/casework/cases/1/" in mail.body
    assert "이음에서 자동으로 보냈습니다" in mail.body  # Korean by default


def test_language_defaults_to_korean(people):
    assert delivery.language_of(people[0]) == "ko"
    people[0].language = "en"
    assert delivery.language_of(people[0]) == "en"
    people[0].language = "xx"
    assert delivery.language_of(people[0]) == "ko"


def test_notification_without_url_has_no_link(people, mailoutbox):
    (row,) = _notify(people[0], url="")
    delivery.deliver([row.pk])
    assert settings.IEUM_BASE_URL not in mailoutbox[0].body


# --- Idempotency ----------------------------------------------------------------------------


def test_delivery_sends_each_row_once(people, mailoutbox):
    rows = _notify(*people)
    first = tasks.deliver_notifications.apply(args=[_ids(rows)]).get()
    again = tasks.deliver_notifications.apply(args=[_ids(rows)]).get()
    assert first == {"sent": 2, "skipped": 0, "failed": 0, "retry": 0}
    assert again == {"sent": 0, "skipped": 0, "failed": 0, "retry": 0}
    assert len(mailoutbox) == 2
    for row in _refresh(rows):
        assert row.email_status == S.SENT
        assert row.email_attempts == 1


def test_status_change_is_in_history_with_a_reason(people):
    (row,) = _notify(people[0])
    delivery.deliver([row.pk])
    latest, created = row.history.order_by("-history_date", "-history_id")[:2]
    assert created.email_status == S.PENDING
    assert latest.email_status == S.SENT
    assert latest.history_change_reason == "이메일 발송"
    assert latest.history_user is None  # no person sent it


def test_duplicate_ids_in_one_batch_send_once(people, mailoutbox):
    (row,) = _notify(people[0])
    delivery.deliver([row.pk, str(row.pk), row.pk])
    assert len(mailoutbox) == 1


def test_unknown_and_malformed_ids_are_ignored(people, mailoutbox):
    (row,) = _notify(people[0])
    missing = "00000000-0000-0000-0000-000000000000"
    outcome = delivery.deliver(["not-a-uuid", missing, row.pk])
    assert outcome.untouched == ["not-a-uuid", missing]
    assert outcome.sent == [str(row.pk)]
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_send_one_email(mailoutbox):
    """While one delivery holds the row (sending), a second one skips it instead of waiting and
    sending it again."""
    user = factories.UserFactory(username="receiver")
    with mock.patch.object(delivery, "schedule"):  # autocommit: keep it from sending at once
        (row,) = _notify(user)
    second = {}
    real_send = delivery.send_mail

    def send_while_another_delivers(*args, **kwargs):
        def other():
            try:
                second["outcome"] = delivery.deliver([row.pk])
            finally:
                connection.close()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=30)
        return real_send(*args, **kwargs)

    with mock.patch.object(delivery, "send_mail", side_effect=send_while_another_delivers):
        first = delivery.deliver([row.pk])
    assert first.sent == [str(row.pk)]
    assert second["outcome"].untouched == [str(row.pk)]
    assert len(mailoutbox) == 1
    assert Notification.objects.get(pk=row.pk).email_status == S.SENT


# --- Skipped ---------------------------------------------------------------------------------


def test_recipient_without_email_is_skipped(people, mailoutbox):
    people[0].email = ""
    people[0].save()
    rows = _notify(*people)
    outcome = delivery.deliver(_ids(rows))
    assert outcome.skipped == [str(rows[0].pk)]
    assert outcome.sent == [str(rows[1].pk)]
    assert [m.to for m in mailoutbox] == [[people[1].email]]
    skipped = Notification.objects.get(pk=rows[0].pk)
    assert skipped.email_status == S.SKIPPED
    assert skipped.emailed_at is None
    assert skipped.history.first().history_change_reason == "이메일 주소가 없어 보내지 않음"


def test_inactive_recipient_is_skipped(people, mailoutbox):
    people[0].is_active = False
    people[0].save()
    (row,) = _notify(people[0])
    delivery.deliver([row.pk])
    assert mailoutbox == []
    assert Notification.objects.get(pk=row.pk).email_status == S.SKIPPED


# --- Failure, retry, give up --------------------------------------------------------------------


def _smtp_down(*args, **kwargs):
    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_smtp_failure_keeps_the_row_pending_for_a_retry(people, mailoutbox):
    (row,) = _notify(people[0])
    with mock.patch.object(delivery, "send_mail", side_effect=_smtp_down):
        outcome = delivery.deliver([row.pk])
    assert outcome.retry == [str(row.pk)]
    row.refresh_from_db()
    assert (row.email_status, row.email_attempts, row.emailed_at) == (S.PENDING, 1, None)
    assert row.history.first().history_change_reason == "이메일 발송 실패, 다시 시도함"
    # The next attempt succeeds.
    tasks.deliver_notifications.apply(args=[[str(row.pk)]]).get()
    row.refresh_from_db()
    assert (row.email_status, row.email_attempts) == (S.SENT, 2)
    assert len(mailoutbox) == 1


def test_task_retries_with_backoff_then_marks_failed(people, mailoutbox, settings, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS = tasks.deliver_notifications.max_retries + 1
    (row,) = _notify(people[0])
    with mock.patch.object(delivery, "send_mail", side_effect=_smtp_down) as send:
        # Eagerly, each retry runs at once (a worker waits 30 s, 60 s, ... between them).
        result = tasks.deliver_notifications.apply(args=[[str(row.pk)]])
    assert result.get() == {"sent": 0, "skipped": 0, "failed": 1, "retry": 0}
    assert send.call_count == settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS
    row.refresh_from_db()
    assert row.email_status == S.FAILED
    assert row.email_attempts == settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS
    assert row.history.first().history_change_reason == "이메일 발송 실패 (재시도 횟수 초과)"
    assert mailoutbox == []
    # A failed row is not tried again, by the task or the sweep.
    tasks.deliver_notifications.apply(args=[[str(row.pk)]]).get()
    assert delivery.stale_pending_ids(timezone.now() + timedelta(days=1)) == []
    assert mailoutbox == []


def test_retry_policy():
    task = tasks.deliver_notifications
    assert task.autoretry_for == (tasks.DeliveryIncomplete,)
    assert task.retry_backoff and task.retry_jitter
    assert task.max_retries == settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS - 1


# --- Broker down at commit, and the sweep -------------------------------------------------------


def test_broker_down_at_commit_does_not_raise_and_leaves_rows_pending(
    people, mailoutbox, caplog, django_capture_on_commit_callbacks
):
    with broker(DEAD_BROKER):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            rows = _notify(*people)
        elapsed = time.monotonic() - started
    assert len(callbacks) == 1
    assert elapsed < 3, f"publishing to a dead broker took {elapsed:.1f}s"
    assert mailoutbox == []
    assert {row.email_status for row in _refresh(rows)} == {S.PENDING}
    assert "stay pending for the sweep" in caplog.text


def test_schedule_reports_a_failed_publish():
    with broker(DEAD_BROKER):
        assert delivery.schedule(["00000000-0000-0000-0000-000000000000"]) is False
    assert delivery.schedule([]) is True


def test_sweep_delivers_what_a_broker_outage_left_pending(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    with broker(DEAD_BROKER), django_capture_on_commit_callbacks(execute=True):
        rows = _notify(*people)
    now = timezone.now()
    # Too young: the publish may still be on its way.
    assert delivery.sweep(now)["found"] == 0
    assert mailoutbox == []
    later = now + timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS + 1)
    counts = delivery.sweep(later)  # the broker is back (eager here)
    assert counts == {"found": 2, "enqueued": 2, "delivered_inline": 0}
    assert len(mailoutbox) == 2
    assert {row.email_status for row in _refresh(rows)} == {S.SENT}
    # Sweeping again finds nothing and sends nothing.
    assert delivery.sweep(later)["found"] == 0
    assert len(mailoutbox) == 2


def test_sweep_delivers_inline_when_the_broker_is_still_down(people, mailoutbox):
    rows = _notify(*people)
    with broker(DEAD_BROKER):
        counts = delivery.sweep(older_than=timedelta(0))
    assert counts == {"found": 2, "enqueued": 0, "delivered_inline": 2}
    assert {row.email_status for row in _refresh(rows)} == {S.SENT}
    assert len(mailoutbox) == 2


def test_sweep_task_skips_sent_skipped_and_exhausted_rows(people, mailoutbox, settings):
    sent, pending = _notify(*people)
    delivery.deliver([sent.pk])
    exhausted = _notify(people[1], params={"name": "김하늘", "number": "2026-S0001-0002"})[0]
    exhausted.email_attempts = settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS
    exhausted.save()
    result = tasks.sweep_notifications.apply(kwargs={"older_than_seconds": 0}).get()
    assert result["found"] == 1
    assert len(mailoutbox) == 2  # `sent` once, `pending` once
    assert Notification.objects.get(pk=pending.pk).email_status == S.SENT


# --- Beat schedule ------------------------------------------------------------------------------


def test_beat_runs_the_sweep_every_five_minutes_and_the_daily_jobs_in_seoul_time():
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["casework.tasks.sweep_notifications"] == 300
    assert schedule["casework.tasks.send_referral_reminders"] == crontab(hour=8, minute=30)
    assert schedule["casework.tasks.send_daily_digest"] == crontab(hour=7, minute=30)
    assert settings.CELERY_TIMEZONE == "Asia/Seoul"


def test_every_scheduled_task_is_registered():
    registered = set(celery_app.tasks.keys())
    missing = [
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] not in registered
    ]
    assert not missing, f"beat schedules tasks no worker knows: {missing}"
