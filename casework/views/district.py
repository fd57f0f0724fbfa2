"""The district office's dashboard (교육지원청 통합지원센터): escalations waiting for a decision,
the cases the office leads, its onward referrals and what is overdue. The counts are
`selectors.district_overview`'s, over the cases and referrals the user may see; the counts per
school are shown with small cells hidden (docs/reports.md)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _

from casework import access, selectors
from casework.reports import suppression

from .common import log


@login_required
def district_dashboard(request):
    offices = access.district_offices(request.user)
    if not offices:
        raise PermissionDenied(_("교육지원청 통합지원센터 담당자만 볼 수 있습니다."))
    office = offices[0]
    overview = selectors.district_overview(request.user, office)
    # Counts across schools are an aggregate: small ones hidden (DESIGN.md §10).
    rows = overview["by_school"]
    shown = suppression.column({n: row["n"] for n, row in enumerate(rows)}, overview["open_led"])
    overview["by_school"] = [{**row, "n": shown[n]} for n, row in enumerate(rows)]
    log(request, "list", "district_dashboard", overview["waiting"])
    return render(request, "casework/district_dashboard.html", {"office": office, **overview})
