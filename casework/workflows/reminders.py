"""Reminders of overdue referrals (DESIGN.md §4, run daily by Celery beat): the receiver is
reminded once a business day, and after a while the sending side hears too.
"""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop

from casework import deadlines
from casework.models import Referral, ReferralStatus
from casework.notify import notify
from partners.models import User

from .common import attribute
from .referral_notices import notify_receivers, referral_url, sender_audience
from .referrals import locked_referral

R = ReferralStatus


def overdue_referrals(day=None):
    """Referrals sent or received but not answered by their respond-by date."""
    day = day or deadlines.today()
    return Referral.objects.filter(
        status__in=(R.SENT, R.RECEIVED), respond_by__lt=day
    ).select_related("case", "to_organization", "from_organization", "assignee", "created_by")


def send_reminders(day=None, *, by: User | None = None) -> int:
    """Once a day per overdue referral: remind the receiver; after
    REFERRAL_ESCALATE_REMINDER_AFTER business days also the sender and the sender's head."""
    day = day or deadlines.today()
    if not deadlines.is_business_day(day):
        return 0
    count = 0
    for referral in overdue_referrals(day).exclude(reminded_on=day):
        with transaction.atomic():
            referral = locked_referral(referral)
            if referral.reminded_on == day or not referral.is_overdue(day):
                continue
            late = deadlines.business_days_between(referral.respond_by, day)
            params = {"days": late, "number": referral.number}
            notify_receivers(referral, by=by, kind="referral_overdue", params=params)
            if late >= settings.REFERRAL_ESCALATE_REMINDER_AFTER:
                notify(
                    sender_audience(referral, heads=True),
                    kind="referral_overdue_sender",
                    params={**params, "org": referral.to_organization.name},
                    case=referral.case,
                    url=referral_url(referral),
                    exclude=by,
                )
            referral.reminded_on = day
            referral.reminders_sent += 1
            attribute(referral, by, gettext_noop("회신 독촉"))
            referral.save(update_fields=["reminded_on", "reminders_sent", "updated_at"])
            count += 1
    return count
