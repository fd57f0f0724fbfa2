"""Break-glass (긴급 열람, DESIGN.md §5 and §9): a privacy officer, or the centre head of the
office covering the case's school, opens one case outside their grants with a written reason.

The opening lasts BREAK_GLASS_HOURS, reads the case as `view_case` only (never restricted notes;
casework/access/break_glass.py), is an access event of its own, and the owner school's
coordinator is told at once. Opening a case already opened by the same person answers that
opening: there is never more than one in force per person and case.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access, audit
from casework.models import AccessEvent, BreakGlass, Case
from casework.notify import notify
from partners.models import User

from .common import save
from .errors import GuardFailed

REASON_MAX_LENGTH = 2000


def break_glass_hours() -> int:
    return settings.BREAK_GLASS_HOURS


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("긴급 열람 사유를 적어 주세요.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("사유는 %(n)s자 이내로 적어 주세요.") % {"n": REASON_MAX_LENGTH}}
        )
    return reason


@transaction.atomic
def open_break_glass(case: Case, *, by: User, reason: str, request=None) -> tuple[BreakGlass, bool]:
    """Open `case` for `by` with `reason`: the opening and whether it was made now (False: the
    one already in force is answered). Someone who may not break the glass on this case is told
    nothing of it (404); the reason is required (400); someone who sees the case through their
    own grants needs no opening (409). `request`, when there is one, dates and places the
    access event."""
    # The case row is the lock: two openings of the same case wait for each other, and the
    # second finds the first.
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("owner", "student")
        .get(pk=case.pk)
    )
    membership = access.break_glass_membership(by, case)
    if membership is None:
        raise Http404
    reason = _reason(reason)
    now = timezone.now()
    in_force = (
        BreakGlass.objects.filter(case=case, user=by, ended_at__isnull=True, expires_at__gt=now)
        .order_by("-opened_at")
        .first()
    )
    if in_force is not None:
        return in_force, False
    if access.has_case_perm(by, access.VIEW_CASE, case):
        raise GuardFailed(
            _("이미 열람 권한이 있는 사례입니다. 긴급 열람 없이 사례를 볼 수 있습니다.")
        )
    opening = BreakGlass(
        case=case,
        user=by,
        membership=membership,
        reason=reason,
        opened_at=now,
        expires_at=now + timedelta(hours=break_glass_hours()),
    )
    save(opening, by, gettext_noop("긴급 열람"))
    audit.record_access(
        by,
        AccessEvent.Action.BREAK_GLASS,
        "case",
        [case],
        case=case,
        student=case.student,
        request=request,
        reason=reason,
        membership=membership,
    )
    notify(
        access.audience(case.owner, "break_glass_opened"),
        kind="break_glass_opened",
        params={"user": str(by), "org": membership.organization.name, "number": case.number},
        body=reason,
        case=case,
        url=f"/casework/cases/{case.pk}/",
        exclude=by,
    )
    access.forget_break_glasses()
    return opening, True


@transaction.atomic
def end_break_glass(opening: BreakGlass, *, by: User) -> BreakGlass:
    """The opener ends their opening before it expires. Anyone else's opening is not theirs to
    see (404); one already over cannot end again (409)."""
    opening = BreakGlass.objects.select_for_update().filter(pk=opening.pk).first()
    if opening is None or opening.user_id != by.pk:
        raise Http404
    if not opening.in_force():
        raise GuardFailed(_("이미 끝난 긴급 열람입니다."))
    opening.ended_at = timezone.now()
    save(opening, by, gettext_noop("긴급 열람 종료"))
    access.forget_break_glasses()
    return opening
