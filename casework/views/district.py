"""The district office's dashboard (교육지원청 통합지원센터): escalations waiting for a decision,
the cases the office leads, its onward referrals and what is overdue. Counts come from the
cases and referrals the user may see through casework/access.py; a few grouped queries, the same
number whatever the size of the district."""

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils.translation import gettext as _

from casework import access, deadlines
from casework.models import CaseStatus, ReferralStatus
from casework.models.referrals import AWAITING_RESPONSE, OPEN_STATUSES

from .work import log


@login_required
def district_dashboard(request):
    offices = access.district_offices(request.user)
    if not offices:
        raise PermissionDenied(_("교육지원청 통합지원센터 담당자만 볼 수 있습니다."))
    office = offices[0]
    today = deadlines.today()
    # The cases the office leads, per school and status, in one pass: the counts per status and
    # the schools with the most open cases both come from it.
    by_status, open_by_school = defaultdict(int), defaultdict(int)
    for school, status, n in (
        access.visible_cases(request.user)
        .filter(lead=office)
        .values_list("owner__name", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        by_status[status] += n
        if status not in (CaseStatus.CLOSED, CaseStatus.NOT_SELECTED):
            open_by_school[school] += n
    by_school = [
        {"owner__name": name, "n": n}
        for name, n in sorted(open_by_school.items(), key=lambda item: (-item[1], item[0]))[:10]
    ]
    inbox = access.received_referrals(request.user).filter(to_organization=office)
    # Escalations per status and what is overdue, in one pass over the inbox.
    escalations, overdue = {}, 0
    for status, n, late in (
        inbox.values_list("status")
        .annotate(
            n=Count("id", filter=Q(kind="escalation")),
            late=Count("id", filter=Q(status__in=AWAITING_RESPONSE, respond_by__lt=today)),
        )
        .order_by()
    ):
        escalations[status], overdue = n, overdue + late
    onward = dict(
        access.sent_referrals(request.user)
        .filter(from_organization=office)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    waiting = list(
        inbox.filter(kind="escalation", status__in=AWAITING_RESPONSE)
        .select_related("from_organization")
        .order_by("respond_by", "created_at")[:10]
    )
    log(request, "list", "district_dashboard", waiting)
    open_led = sum(n for s, n in by_status.items() if s not in (CaseStatus.CLOSED, "not_selected"))
    return render(
        request,
        "casework/district_dashboard.html",
        {
            "office": office,
            "by_status": [(s, by_status.get(s.value, 0)) for s in CaseStatus],
            "open_led": open_led,
            "escalations": [
                (s, escalations.get(s.value, 0)) for s in ReferralStatus if s != "draft"
            ],
            "overdue": overdue,
            "awaiting": sum(escalations.get(s, 0) for s in AWAITING_RESPONSE),
            "onward": [(s, onward.get(s.value, 0)) for s in ReferralStatus],
            "onward_open": sum(onward.get(s, 0) for s in OPEN_STATUSES),
            "by_school": by_school,
            "waiting": waiting,
            "today": today,
        },
    )
