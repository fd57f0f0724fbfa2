"""The access-log search as a page (DESIGN.md §9): the privacy officer filters by case,
student, user, action and dates, reads the newest first, and downloads what they found as CSV
with a stated reason. Reading the log and downloading it are themselves logged."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from casework import access, auditlog
from casework.forms import AccessLogFilterForm, DownloadReasonForm

from .common import log


@login_required
def access_log(request):
    """GET: the search. POST: the CSV of the same filters (in the query string) with the
    reason typed (in the body)."""
    if not access.may_read_access_log(request.user):
        raise PermissionDenied
    filters = AccessLogFilterForm(request.GET)
    posted = request.method == "POST"
    download = DownloadReasonForm(request.POST) if posted else DownloadReasonForm()
    page, status = None, 200
    if filters.is_valid():
        rows = auditlog.search(request.user, filters.cleaned_data)
        if posted and download.is_valid():
            reason = download.cleaned_data["reason"]
            events = auditlog.export_rows(rows)
            log(request, "download", "access_event", events, reason=reason)
            return auditlog.download_response(request.user, events, reason)
        page = auditlog.page_of(rows, request.GET.get("cursor"))
        log(request, "search", "access_event", page.rows)
        if posted:
            status = 400
    else:
        status = 400
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "casework/access_log.html",
        {
            "filters": filters,
            "download": download,
            "page": page,
            "query": query.urlencode(),
            "export_max": auditlog.EXPORT_MAX,
        },
        status=status,
    )
