"""The principal's and vice-principal's pages, and everyone's notifications."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from simple_history.utils import bulk_update_with_history

from casework import access, selectors
from casework.choices import RiskLevel
from casework.forms import ReasonForm
from casework.models import CaseStatus, Notification
from casework.workflows import planning
from partners.pagination import SlimPaginator

from .work import PAGE_SIZE, attempt, log


@login_required
def approvals(request):
    plans = list(selectors.plans_awaiting_approval(request.user).prefetch_related("interventions"))
    log(request, "list", "plan", plans)
    return render(request, "casework/approvals.html", {"plans": plans, "return_form": ReasonForm()})


@login_required
@require_POST
def plan_decide(request, pk, decision):
    plan = access.get_visible_plan_or_404(request.user, pk)
    version = request.POST.get("version") or None
    if decision == "approve":
        done = attempt(request, planning.approve_plan, plan, by=request.user, version=version)
        if done:
            messages.success(
                request, _("%(number)s 지원 계획을 승인했습니다.") % {"number": plan.case.number}
            )
    elif decision == "return":
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("돌려보내는 사유를 적어 주세요."))
        elif attempt(
            request, planning.return_plan, plan, by=request.user, reason=form.cleaned_data["reason"]
        ):
            messages.success(
                request, _("%(number)s 지원 계획을 돌려보냈습니다.") % {"number": plan.case.number}
            )
    else:
        raise Http404
    return redirect("casework:approvals")


@login_required
def school_overview(request):
    if not access.heads_a_school(request.user):
        raise PermissionDenied
    overview = selectors.school_overview(request.user)
    status = request.GET.get("status") or ",".join(
        s for s in CaseStatus.values if s not in ("closed", "not_selected")
    )
    cases = selectors.case_list(request.user, status=status).order_by("-updated_at")
    page = SlimPaginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "list", "case", page)
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
            "current_status": request.GET.get("status", ""),
            "risk_labels": dict(RiskLevel.choices),
        },
    )


@login_required
def notifications(request):
    """The user's notifications, which carry names, concern text and outcomes: none without a
    current approval (the page says why), and every page of them logged."""
    rows = access.visible_notifications(request.user).order_by("-created_at")
    page = SlimPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "list", "notification", page)
    unread = rows.filter(read_at__isnull=True).count()
    return render(
        request,
        "casework/notifications.html",
        {
            "page": page,
            "unread": unread,
            "no_approval": not access.has_current_membership(request.user),
        },
    )


@login_required
@require_POST
def notification_open(request, pk):
    notification = access.get_visible_notification_or_404(request.user, pk)
    log(request, "view", "notification", [notification])
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
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
    unread = list(access.visible_notifications(request.user).filter(read_at__isnull=True))
    now = timezone.now()
    for notification in unread:
        notification.read_at = now
    # A queryset update() would leave no history (DESIGN.md §6).
    bulk_update_with_history(
        unread, Notification, ["read_at"], default_user=request.user, default_change_reason="읽음"
    )
    return redirect("casework:notifications")


@login_required
def notification_badge(request):
    count = access.visible_notifications(request.user).filter(read_at__isnull=True).count()
    return HttpResponse(str(count) if count else "")
