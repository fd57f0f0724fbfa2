"""The periodic tasks Celery beat runs besides the delivery sweep: referral reminders, packet
retention and the daily digest."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from casework import tasks
from casework.models import EmailDigest
from casework.notify import notify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("locmem_email")]


def make(world, username, title):
    return notify(
        [world[username]],
        kind="case_opened",
        params={"name": "김하늘", "number": title},
        url="/casework/",
    )[0]


def test_daily_digest_once_a_day_and_only_unread(world):
    make(world, "coordinator", "첫째")
    make(world, "coordinator", "둘째")
    read = make(world, "partner", "읽음")
    read.read_at = timezone.now()
    read.save()
    mail.outbox.clear()
    assert tasks.send_daily_digest.apply().get() == 1
    assert len(mail.outbox) == 1 and "읽지 않은 알림 2건" in mail.outbox[0].subject
    assert "첫째" in mail.outbox[0].body and "둘째" in mail.outbox[0].body
    assert tasks.send_daily_digest.apply().get() == 0  # once a day
    assert EmailDigest.objects.get().count == 2


def test_a_failed_digest_is_not_recorded(world):
    make(world, "coordinator", "첫째")
    with mock.patch("django.core.mail.send_mail", side_effect=OSError("smtp down")):
        assert tasks.send_daily_digest.apply().get() == 0
    assert not EmailDigest.objects.exists()  # tomorrow's run tries again


def test_referral_tasks_call_the_workflows():
    with mock.patch("casework.workflows.reminders.send_reminders", return_value=3) as reminders:
        assert tasks.send_referral_reminders.apply().get() == 3
    reminders.assert_called_once_with()
    with mock.patch("casework.workflows.retention.purge_expired_packets", return_value=2) as purge:
        assert tasks.purge_referral_packets.apply().get() == 2
    purge.assert_called_once_with()


def test_every_beat_entry_is_a_registered_task(settings):
    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]
    assert timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["sweep-notifications"]["schedule"])
