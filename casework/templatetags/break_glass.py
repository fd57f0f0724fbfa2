"""The break-glass banner (DESIGN.md §9): every page of a case opened by break-glass says so while
the opening lasts. base.html draws it once, from whatever case the page is about."""

from django import template
from django.utils import timezone

from casework import access
from casework.models import Case, Referral, Student, SupportPlan

register = template.Library()


def _subject(context) -> tuple[Case | None, Student | None]:
    """The case (or student) the page is about, from the names the case pages use."""
    case = context.get("case")
    if isinstance(case, Case):
        return case, None
    for name in ("referral", "plan"):
        obj = context.get(name)
        if isinstance(obj, Referral | SupportPlan):
            return obj.case, None
    student = context.get("student")
    if isinstance(student, Student):
        return None, student
    return None, None


@register.inclusion_tag("casework/_break_glass_banner.html", takes_context=True)
def break_glass_banner(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    opening = None
    if access.may_hold_break_glass(user):
        case, student = _subject(context)
        opening = access.break_glass_in_force(user, case=case, student=student)
    same_day = opening is not None and (
        timezone.localdate(opening.expires_at) == timezone.localdate()
    )
    return {"opening": opening, "same_day": same_day}
