"""A membership stops counting: the person's own grants on that organisation's cases go with it
(DESIGN.md §2, §5). Role grants belong to the role and stay; the ended membership simply no
longer reaches them.

`membership_changed` runs on every save and delete of a membership (connected in
casework/apps.py: the network app knows nothing of casework). A membership set inactive, or
whose `ended_on` is today or earlier, loses its grants at once; one ended in advance (a future
`ended_on`) keeps them through its last day, and the daily job `drop_ended_membership_grants`
removes them the day after."""

from datetime import date

from django.db import transaction
from django.utils.translation import gettext_noop

from casework import access
from partners.models import Membership, User, today

from .common import attribute


def stops_counting(membership: Membership, day: date | None = None) -> bool:
    day = day or today()
    return not membership.active or (membership.ended_on is not None and membership.ended_on <= day)


def membership_changed(membership: Membership, *, deleted: bool = False) -> int:
    """Drop the person's own grants tied to a membership that ended, was set inactive or was
    deleted. Returns the number of grant rows removed."""
    if not (deleted or stops_counting(membership)):
        return 0
    return access.revoke_membership_grants(membership)


@transaction.atomic
def end_membership(
    membership: Membership, *, by: User | None, on: date | None = None
) -> Membership:
    """End the membership after `on` (today by default; a later day ends it in advance),
    recorded as `by`. Its grants go at once when `on` is today or earlier."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    on = on or today()
    if membership.ended_on is not None and membership.ended_on <= on:
        return membership  # already ended by then
    membership.ended_on = on
    attribute(membership, by, gettext_noop("소속 종료"))
    membership.save()  # the receiver drops the grants when the end has come
    return membership


def drop_ended_membership_grants(day: date | None = None) -> int:
    """Daily: memberships whose last day has passed lose their holder's own grants. Returns the
    number of grant rows removed."""
    day = day or today()
    removed = 0
    for membership in access.ended_memberships_holding_grants(day).iterator():
        with transaction.atomic():
            removed += access.revoke_membership_grants(membership)
    return removed


def on_membership_saved(sender, instance: Membership, raw: bool = False, **kwargs) -> None:
    if not raw:
        membership_changed(instance)


def on_membership_deleted(sender, instance: Membership, **kwargs) -> None:
    membership_changed(instance, deleted=True)
