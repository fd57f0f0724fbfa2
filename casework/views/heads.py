"""The principal's and vice-principal's pages, and everyone's notifications."""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import access, actions, selectors
from casework.choices import ConsentPurpose, RiskLevel
from casework.models import CaseStatus, Consent
from casework.workflows.notifications import mark_all_read, mark_read
from core.listing import Listing
from core.pagination import SlimPaginator

from .common import PAGE_SIZE, attempt, case_sorts, log


def _approvals_page(request, *, failed=None, failed_form=None, status=200):
    """The plans waiting for the user's approval, each with what the decision rests on: the
    case (number, student, risk level, difficulties, summary), the plan itself and the case's
    consents. One query per kind of row, whatever the number of plans."""
    plans = list(
        selectors.plans_awaiting_approval(request.user).prefetch_related(
            "interventions",
            Prefetch("case__consents", queryset=Consent.objects.order_by("subject", "-given_on")),
        )
    )
    log(request, "list", "plan", plans)
    return render(
        request,
        "casework/approvals.html",
        {
            "plans": plans,
            "failed": failed,
            "failed_form": failed_form,
            "purpose_labels": dict(ConsentPurpose.choices),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
def approvals(request):
    return _approvals_page(request)


@login_required
@require_POST
def plan_decide(request, pk, decision):
    plan = actions.PLAN.find(request.user, pk)
    # The principal approves or returns here; submitting is the case page's.
    if decision not in ("approve", "return"):
        raise Http404
    action = actions.PLAN[decision]
    if action.form is None:
        data = {"version": request.POST.get("version") or None}
    else:
        form = action.form(request.POST)
        if not form.is_valid():
            # The page again, the error beside the reason field of this plan.
            return _approvals_page(request, failed=plan.pk, failed_form=form, status=400)
        data = form.cleaned_data
    if attempt(request, action.run, plan, by=request.user, **data):
        text = (
            _("%(number)s 지원 계획을 승인했습니다.")
            if decision == "approve"
            else _("%(number)s 지원 계획을 돌려보냈습니다.")
        )
        messages.success(request, text % {"number": plan.case.number})
    return redirect("casework:approvals")


@login_required
def school_overview(request):
    if not access.heads_a_school(request.user):
        raise PermissionDenied
    overview = selectors.school_overview(request.user)
    rows = Listing(
        request, "school_overview", filters=("status",), sorts=case_sorts(), default="-updated"
    )
    status = rows.get("status") or ",".join(
        s for s in CaseStatus.values if s not in ("closed", "not_selected")
    )
    cases = rows.order(selectors.case_list(request.user, status=status))
    page = SlimPaginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "list", "case", page)
    rows.remember()
    overdue = selectors.case_list(request.user, status="active,monitoring").filter(
        review_due_on__lt=timezone.localdate()
    )
    return render(
        request,
        "casework/overview.html",
        {
            "overview": overview,
            "page": page,
            "awaiting": selectors.plans_awaiting_approval(request.user).count(),
            "overdue": overdue.count(),
            "statuses": CaseStatus.choices,
            "current_status": rows.get("status", ""),
            "listing": rows,
            "params": rows.params,
            "risk_labels": dict(RiskLevel.choices),
        },
    )


@login_required
def notifications(request):
    """The user's notifications, which carry names, concern text and outcomes: none without a
    current approval (the page says why), and every page of them logged. They come grouped by
    case, the case heard of last first; those of no case make a group of their own."""
    rows = selectors.notifications_by_case(request.user)
    page = SlimPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "list", "notification", page)
    unread = access.visible_notifications(request.user).filter(read_at__isnull=True).count()
    return render(
        request,
        "casework/notifications.html",
        {
            "page": page,
            "groups": _case_groups(request.user, list(page)),
            "unread": unread,
            "no_approval": not access.has_current_membership(request.user),
        },
    )


def _case_groups(user, rows) -> list[dict]:
    """Consecutive rows of one case as a group. The heading names the student and links the
    case only when the user may view the case today; otherwise it shows what the group's own
    notifications told this user (the teacher who raised a concern is told the name)."""
    viewable = access.visible_case_ids(user, {n.case_id for n in rows})
    groups = []
    for case_id, members in groupby(rows, key=lambda n: n.case_id):
        members = list(members)
        case = members[0].case
        told = next((n.params["name"] for n in members if (n.params or {}).get("name")), "")
        groups.append(
            {
                "case": case,
                "viewable": case_id in viewable,
                "student": case.student.name if case_id in viewable else told,
                "notifications": members,
                "unread": sum(1 for n in members if n.read_at is None),
            }
        )
    return groups


@login_required
@require_POST
def notification_open(request, pk):
    notification = access.get_visible_notification_or_404(request.user, pk)
    log(request, "view", "notification", [notification])
    mark_read(notification, by=request.user)
    target = notification.url
    # Only our own pages: a notification never sends anyone off-site.
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
    ):
        return redirect(target)
    return redirect("casework:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    mark_all_read(by=request.user)
    return redirect("casework:notifications")


@login_required
def notification_badge(request):
    count = access.visible_notifications(request.user).filter(read_at__isnull=True).count()
    return HttpResponse(str(count) if count else "")
