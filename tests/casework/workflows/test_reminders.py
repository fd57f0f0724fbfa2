"""Referral deadlines and the reminders sent when one passes unanswered."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from casework import deadlines
from casework.models import Notification, Referral
from casework.workflows import referrals as wf
from casework.workflows import reminders
from tests.builders import service_referral

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def test_urgency_shortens_the_default_deadline(net, consented):
    referral = wf.send_referral(
        service_referral(net, consented, urgency="urgent"), by=net["coordinator"]
    )
    assert referral.respond_by == deadlines.add_business_days(TODAY(), 1)


def test_overdue_reminders_go_to_receiver_then_sender_and_head(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    monday = date(2026, 11, 16)
    Referral.objects.filter(pk=referral.pk).update(respond_by=monday)
    referral.refresh_from_db()
    assert not referral.is_overdue(monday) and referral.is_overdue(monday + timedelta(days=1))
    assert reminders.send_reminders(monday + timedelta(days=1)) == 1
    assert reminders.send_reminders(monday + timedelta(days=1)) == 0  # once a day
    assert (
        Notification.objects.filter(recipient=net["partner"], kind="referral_overdue").count() == 1
    )
    assert not Notification.objects.filter(kind="referral_overdue_sender").exists()
    assert reminders.send_reminders(monday + timedelta(days=5)) == 0  # a Saturday: no reminders
    assert reminders.send_reminders(monday + timedelta(days=3)) == 1  # 3 business days late
    sender_side = set(
        Notification.objects.filter(kind="referral_overdue_sender").values_list(
            "recipient__username", flat=True
        )
    )
    assert sender_side == {"coordinator", "principal"}
    wf.accept_referral(referral, by=net["partner"])
    assert reminders.send_reminders(monday + timedelta(days=4)) == 0  # answered: no longer overdue
