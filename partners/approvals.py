"""The data-handling approval (개인정보 취급승인, Act Art. 17⑦) of a membership: a step of its own,
recorded with the person who gives it, who is never the membership's own user."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import SELF_APPROVAL, Membership, User, today

# An approval is renewed yearly.
APPROVAL_DAYS = 365


def default_expiry(day: date | None = None) -> date:
    return (day or today()) + timedelta(days=APPROVAL_DAYS)


def check_expiry(expires_on: date, day: date | None = None) -> None:
    day = day or today()
    if expires_on < day:
        raise ValidationError({"approval_expires_on": _("만료일은 오늘이나 그 뒤여야 합니다.")})
    if expires_on > default_expiry(day):
        raise ValidationError(
            {"approval_expires_on": _("취급 승인은 최대 1년까지 줄 수 있습니다.")}
        )


@transaction.atomic
def approve_membership(
    membership: Membership, *, by: User, expires_on: date | None = None
) -> Membership:
    """Approve (or renew) the membership from today until `expires_on` (a year by default),
    as `by`. Refused when `by` is the membership's own user."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if by is None or by.pk == membership.user_id:
        raise ValidationError(SELF_APPROVAL)
    day = today()
    expires_on = expires_on or default_expiry(day)
    check_expiry(expires_on, day)
    membership.approved_by = by
    membership.approved_on = day
    membership.approval_expires_on = expires_on
    membership._history_user = by
    membership._change_reason = "취급 승인"
    membership.save()
    return membership
