"""The signed-in user's memberships, read once per request.

The header, the menu, the access log and every access query of a page need the same few
membership rows. Inside a request (`MembershipMemoMiddleware`) they are read once and kept until
the response is sent; a membership saved or deleted meanwhile clears the memo, so a request that
ends a membership sees the change at once. Outside a request (commands, Celery tasks, tests
calling selectors directly) nothing is kept and callers fall back to a subquery.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from .models import Membership, User, today

_memo: ContextVar[dict | None] = ContextVar("ieum_membership_memo", default=None)


@contextmanager
def membership_memo():
    """Keep memberships read in this block (one request) until it ends."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


class MembershipMemoMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with membership_memo():
            return self.get_response(request)


def active_memberships_of(user: User) -> list[Membership]:
    """The user's active memberships with their organisations (approved or not)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    memo = _memo.get()
    if memo is not None and user.pk in memo:
        return memo[user.pk]
    rows = list(Membership.objects.filter(user=user, active=True).select_related("organization"))
    if memo is not None:
        memo[user.pk] = rows
    return rows


def memoized_current_memberships(user: User, day: date | None = None) -> list[Membership] | None:
    """Today's current memberships from the request's memo, or None outside a request (or for
    another day), when the caller should ask the database itself."""
    if _memo.get() is None or (day is not None and day != today()):
        return None
    return [m for m in active_memberships_of(user) if m.is_current()]


def forget_memberships() -> None:
    memo = _memo.get()
    if memo is not None:
        memo.clear()
