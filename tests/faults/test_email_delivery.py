"""Notification e-mail when a worker dies mid-send: the row is claimed in a committed transaction
before the send, so the broker's redelivery of the killed task sends nothing twice; a claim left
by a dead worker is sent again after NOTIFICATION_CLAIM_TIMEOUT_SECONDS with the same Message-ID,
so that mail systems drop the repeat (docs/operations.md, "Delivery guarantees")."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from casework.models import Notification
from casework.notify import delivery, notify
from tests import factories

S = Notification.EmailStatus


class WorkerKilled(BaseException):
    """What a `kill -9` between the send and the commit looks like from inside the worker."""


def pending_row(user):
    with delivery.suspended():  # written without e-mail: the test delivers it by hand
        (row,) = notify(
            [user],
            kind="team_added",
            params={"name": "김하늘", "number": "2026-S0001-0001"},
            url="/casework/cases/1/",
        )
    Notification.objects.filter(pk=row.pk).update(email_status=S.PENDING)
    return row


def message_ids(outbox):
    return [message.message()["Message-ID"] for message in outbox]


@pytest.mark.django_db
def test_the_message_id_is_derived_from_the_notification_and_stable(mailoutbox, settings):
    settings.EMAIL_MESSAGE_ID_DOMAIN = "ieum.example.kr"
    row = pending_row(factories.UserFactory(username="receiver"))
    assert delivery.deliver([row.pk]).sent == [str(row.pk)]
    # Sent again (as after a claim timed out): the same Message-ID.
    Notification.objects.filter(pk=row.pk).update(email_status=S.PENDING, emailed_at=None)
    assert delivery.deliver([row.pk]).sent == [str(row.pk)]
    assert message_ids(mailoutbox) == [f"<notification-{row.pk}@ieum.example.kr>"] * 2
    other = pending_row(factories.UserFactory(username="other"))
    delivery.deliver([other.pk])
    assert message_ids(mailoutbox)[-1] == f"<notification-{other.pk}@ieum.example.kr>"


@pytest.mark.django_db(transaction=True)  # the claim's own commit is what is tested
def test_a_worker_killed_after_the_send_does_not_send_again(mailoutbox):
    row = pending_row(factories.UserFactory(username="receiver"))
    real_record = delivery.record_outcome

    def killed_before_commit(target, status, reason):
        if status == S.SENT:
            raise WorkerKilled
        real_record(target, status, reason)

    with (
        mock.patch.object(delivery, "record_outcome", side_effect=killed_before_commit),
        pytest.raises(WorkerKilled),
    ):
        delivery.deliver([row.pk])
    assert len(mailoutbox) == 1  # it went out; the worker died before recording it
    row.refresh_from_db()
    assert row.email_status == S.PENDING and row.email_attempts == 1
    assert row.emailed_at is not None  # the committed claim

    # The broker redelivers the killed task (acks_late) and the sweep runs: nothing is resent.
    assert delivery.deliver([row.pk]).untouched == [str(row.pk)]
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS + 1)
    assert delivery.stale_pending_ids(later) == []
    assert len(mailoutbox) == 1

    # Past the claim timeout the worker is taken for dead: sent again, with the same Message-ID.
    past_claim = timezone.now() + delivery.claim_timeout() + timedelta(seconds=1)
    assert delivery.stale_pending_ids(past_claim) == [str(row.pk)]
    with mock.patch.object(delivery.timezone, "now", return_value=past_claim):
        assert delivery.deliver([row.pk]).sent == [str(row.pk)]
    assert len(mailoutbox) == 2
    assert message_ids(mailoutbox)[0] == message_ids(mailoutbox)[1]
    row.refresh_from_db()
    assert (row.email_status, row.email_attempts) == (S.SENT, 2)


@pytest.mark.django_db
def test_a_claim_that_keeps_dying_ends_failed(mailoutbox, settings):
    """A row whose sends die every time counts its attempts and is given up at the maximum."""
    settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS = 2
    row = pending_row(factories.UserFactory(username="receiver"))
    Notification.objects.filter(pk=row.pk).update(
        email_attempts=2, emailed_at=timezone.now() - timedelta(days=1)
    )
    assert delivery.stale_pending_ids(timezone.now()) == []
    assert delivery.sweep()["found"] == 0
    row.refresh_from_db()
    assert row.email_status == S.FAILED and mailoutbox == []
