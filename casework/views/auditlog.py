"""The access-log search as a page (DESIGN.md §9): the privacy officer filters by case,
student, user, action and dates, reads the newest first, and downloads what they found as CSV
with a stated reason. Reading the log and downloading it are themselves logged. The last
filters and order come back when the officer returns to the page (core.listing)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from casework import access, auditlog
from casework.forms import AccessLogFilterForm, DownloadReasonForm
from core.listing import Listing

from .common import log


@login_required
def access_log(request):
    """GET: the search. POST: the CSV of the same filters (in the query string) with the
    reason typed (in the body)."""
    if not access.may_read_access_log(request.user):
        raise PermissionDenied
    kept = Listing(
        request,
        "access_log",
        filters=tuple(AccessLogFilterForm.base_fields),
        sorts={"time": "occurred_at"},
        default="-time",
    )
    filters = AccessLogFilterForm(kept.params)
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
        newest_first = kept.sort == kept.default
        if not newest_first:
            rows = auditlog.oldest_first(rows)
        page = auditlog.page_of(rows, request.GET.get("cursor"), newest_first=newest_first)
        log(request, "search", "access_event", page.rows)
        kept.remember()
        if posted:
            status = 400
    else:
        status = 400
    return render(
        request,
        "casework/access_log.html",
        {
            "listing": kept,
            "filters": filters,
            "download": download,
            "page": page,
            "query": kept.query,
            "export_max": auditlog.EXPORT_MAX,
        },
        status=status,
    )
