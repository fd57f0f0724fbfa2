"""The reader's side of notifications: marking them read. Which ones a user may touch is the
access package's `visible_notifications`; the caller finds the notification through it."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from simple_history.utils import bulk_update_with_history

from casework import access
from casework.models import Notification
from partners.models import User

from .common import attribute


@transaction.atomic
def mark_read(notification: Notification, *, by: User) -> Notification:
    """Opening a notification reads it; one already read keeps its first reading time."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        attribute(notification, by)
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_read(*, by: User) -> int:
    """Every unread notification the user may see, read now, with a history row each (a
    queryset update() would leave none, DESIGN.md §6). Returns how many were marked."""
    unread = list(access.visible_notifications(by).filter(read_at__isnull=True))
    now = timezone.now()
    for notification in unread:
        notification.read_at = now
    bulk_update_with_history(
        unread,
        Notification,
        ["read_at"],
        default_user=by,
        default_change_reason=gettext_noop("읽음"),
    )
    return len(unread)
