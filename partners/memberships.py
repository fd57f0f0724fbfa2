"""The signed-in user's memberships, read once per request.

The header, the menu, the access log and every access query of a page need the same few
membership rows. Inside a request (core.memo) they are read once and kept until the response is
sent; a membership saved or deleted meanwhile clears them, so a request that ends a membership
sees the change at once. Outside a request (commands, Celery tasks, tests calling selectors
directly) nothing is kept and callers fall back to a subquery.
"""

from datetime import date

from core.memo import forget, in_request, memo

from .models import Membership, User, today

MEMO = "memberships"


def active_memberships_of(user: User) -> list[Membership]:
    """The user's active memberships with their organisations (approved or not)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    kept = memo(MEMO)
    if kept is not None and user.pk in kept:
        return kept[user.pk]
    rows = list(Membership.objects.filter(user=user, active=True).select_related("organization"))
    if kept is not None:
        kept[user.pk] = rows
    return rows


def memoized_current_memberships(user: User, day: date | None = None) -> list[Membership] | None:
    """Today's current memberships from the request's memo, or None outside a request (or for
    another day), when the caller should ask the database itself."""
    if not in_request() or (day is not None and day != today()):
        return None
    return [m for m in active_memberships_of(user) if m.is_current()]


def forget_memberships() -> None:
    forget(MEMO)
