"""Break-glass (긴급 열람, DESIGN.md §5 and §9): what an opening lets its opener read, and how
those reads are told apart.

While an opening is in force — not ended, not expired, and the membership it was opened through
still current in a role that may open one — the case answers `view_case` to its opener and
nothing more: the visibility subquery (`sql.break_glass_sql`) and the per-request checker
(`AccessChecker`) add it, so that lists, the case page, the API, the timeline, the case's
student and its referrals follow at once. Restricted notes stay hidden: `visible_notes` reads
them only through `view_restricted_notes` or as the owner school's staff, which break-glass
never gives. Every read of the case (or its student) in that time is logged as `break_glass`
(`read_logged_as`), so the monthly review finds it.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from casework.models import AccessEvent, BreakGlass, Case, Student
from core.memo import forget, memo
from partners.models import User

from . import roles as r
from .oversight import may_break_glass
from .sql import membership_values, signed_in

MEMO = "break_glass"


def may_hold_break_glass(user: User) -> bool:
    """Whether any opening of the user can be in force (a current membership in a role that may
    open one); from the request's memberships, without a query, inside a request."""
    if not signed_in(user):
        return False
    memberships = membership_values(user, None, "id", roles=r.BREAK_GLASS_ROLES)
    return not isinstance(memberships, list) or bool(memberships)


def break_glasses_in_force(user: User, now: datetime | None = None) -> list[BreakGlass]:
    """The user's openings in force now, with their cases; read once per request, and only
    for someone who may hold one."""
    if not may_hold_break_glass(user):
        return []
    kept = memo(MEMO)
    if kept is not None and user.pk in kept:
        rows = kept[user.pk]
    else:
        rows = list(
            BreakGlass.objects.filter(
                user=user,
                ended_at__isnull=True,
                expires_at__gt=timezone.now(),
                membership_id__in=membership_values(user, None, "id", roles=r.BREAK_GLASS_ROLES),
            )
            .select_related("case__owner")
            .order_by("-opened_at")
        )
        if kept is not None:
            kept[user.pk] = rows
    now = now or timezone.now()
    return [row for row in rows if row.in_force(now)]


def forget_break_glasses() -> None:
    """Drop the request's openings (one was opened or ended)."""
    forget(MEMO)


def break_glass_in_force(
    user: User, *, case: Case | None = None, student: Student | None = None
) -> BreakGlass | None:
    """The user's opening in force on `case` (or on a case of `student`), if any."""
    if case is None and student is None:
        return None
    for row in break_glasses_in_force(user):
        if case is not None and row.case_id == case.pk:
            return row
        if case is None and student is not None and row.case.student_id == student.pk:
            return row
    return None


def read_logged_as(
    user: User,
    action: str,
    *,
    case: Case | None = None,
    student: Student | None = None,
    reason: str = "",
) -> tuple[str, str]:
    """The action and reason an access event records for a read: `break_glass`, with the
    opening's reason, while the reader holds an opening in force on the case or the student
    read; otherwise what the caller said."""
    opened = break_glass_in_force(user, case=case, student=student)
    if opened is None:
        return action, reason
    return AccessEvent.Action.BREAK_GLASS, reason or opened.reason


def find_break_glass_case(user: User, number: str) -> Case | None:
    """The case numbered `number` if the user may open it by break-glass; None for any other
    number, existing or not, so that a search tells nothing about cases out of reach."""
    number = (number or "").strip()
    if not number or not may_hold_break_glass(user):
        return None
    case = Case.objects.select_related("owner").filter(number=number).first()
    if case is None or not may_break_glass(user, case):
        return None
    return case


def get_break_glass_case_or_404(user: User, pk) -> Case:
    """The case of `pk` if the user may open it by break-glass, else 404 (as for a case that
    does not exist)."""
    if not may_hold_break_glass(user):
        raise Http404
    try:
        case = Case.objects.select_related("owner").filter(pk=pk).first()
    except (ValidationError, ValueError, TypeError):
        raise Http404 from None
    if case is None or not may_break_glass(user, case):
        raise Http404
    return case


def get_own_break_glass_or_404(user: User, pk) -> BreakGlass:
    """One of the user's own openings (to end it); anyone else's is not found."""
    if not signed_in(user):
        raise Http404
    try:
        opening = BreakGlass.objects.filter(pk=pk, user=user).first()
    except (ValidationError, ValueError, TypeError):
        raise Http404 from None
    if opening is None:
        raise Http404
    return opening
