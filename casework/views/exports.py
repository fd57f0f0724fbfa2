"""Pages of exports (DESIGN.md §10): the small form that asks for the reason, the job's page
with its progress (polled by htmx) and the download link once the file is ready, the file
itself, and the person's recent exports."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from casework import access, exporting
from casework.forms import ExportForm
from casework.workflows import exports
from casework.workflows.errors import GuardFailed
from core import exportfiles

from .common import is_htmx, log

RECENT = 50  # exports shown on the person's list


def _asked(request) -> tuple[str, dict]:
    """The kind and parameters of the export the link asks for (its query string)."""
    kind = request.GET.get("kind", "")
    if kind not in exports.KINDS:
        raise Http404
    params = {name: request.GET[name] for name in request.GET if name not in ("kind", "page")}
    return kind, params


@login_required
def export_new(request):
    """The form from the case list, a referral list or the case page: the reason, then the job."""
    kind, params = _asked(request)
    case = None
    if kind == "report" and not access.may_request_committee_report(request.user):
        raise PermissionDenied
    if kind == "case_summary":
        case = access.get_visible_case_or_404(request.user, params.get("case"))
        log(request, "view", "case", [case], case=case, student=case.student)  # names the student
    form = ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            job = exports.request_export(
                by=request.user, kind=kind, params=params, reason=form.cleaned_data["reason"]
            )
        except ValidationError as refused:
            for field, messages in refused.message_dict.items():
                form.add_error("reason" if field == "reason" else None, messages)
        else:
            return redirect("casework:export_detail", job.pk)
    context = {
        "form": form,
        "kind": kind,
        "kind_label": exports.KIND_LABELS[kind],
        "case": case,
        "conditions": exporting.conditions(params) if case is None else "",
        "ttl_hours": settings.EXPORT_TTL_HOURS,
    }
    return render(
        request, "casework/export_new.html", context, status=400 if form.is_bound else 200
    )


def _job_context(job) -> dict:
    return {
        "job": job,
        "kind_label": exports.export_kind_label(job),
        "downloadable": exports.is_downloadable(job),
        "expired": exports.is_expired(job),
    }


@login_required
def export_detail(request, pk):
    """The export's progress while its file is made, then the download link and its expiry."""
    job = access.get_visible_export_job_or_404(request.user, pk)
    log(request, "view", "job", [job])
    template = "casework/_export_status.html" if is_htmx(request) else "casework/export_detail.html"
    return render(request, template, _job_context(job))


@login_required
def export_download(request, pk):
    """The file, for its requester while it lasts (410 after); each download is logged."""
    job = access.get_downloadable_export_or_404(request.user, pk)
    try:
        content, name, content_type = exports.download_export(job, by=request.user, request=request)
    except (exports.FileGone, GuardFailed) as refused:
        status = 410 if isinstance(refused, exports.FileGone) else 409
        context = _job_context(job) | {"refusal": refused.message}
        return render(request, "casework/export_detail.html", context, status=status)
    return exportfiles.attachment(content, name, content_type)


@login_required
def export_list(request):
    """The person's recent exports, newest first, with their state and expiry."""
    jobs = list(access.visible_export_jobs(request.user).order_by("-created_at")[:RECENT])
    log(request, "list", "job", jobs)
    rows = [_job_context(job) for job in jobs]
    return render(
        request,
        "casework/export_list.html",
        {"rows": rows, "ttl_hours": settings.EXPORT_TTL_HOURS},
    )
