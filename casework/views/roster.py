"""Pages of the roster: students, the roster import and its job's progress."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import access, imports, selectors
from casework.forms import (
    ImportForm,
)
from casework.models import Job
from casework.workflows import roster
from casework.workflows.errors import GuardFailed
from core.listing import Listing
from core.pagination import SlimPaginator

from .common import PAGE_SIZE, is_htmx, log

# --- Roster ----------------------------------------------------------------------------------


@login_required
def student_list(request):
    rows = Listing(
        request,
        "students",
        filters=("q", "grade", "class_no"),
        sorts={
            "grade": ("school__name", "grade", "class_no", "number"),
            "class": ("school__name", "class_no", "grade", "number"),
            "name": ("name", "grade", "class_no", "number"),
        },
        default="grade",
    )
    students = selectors.roster(
        request.user,
        q=rows.get("q"),
        grade=rows.get("grade") or None,
        class_no=rows.get("class_no") or None,
    )
    page = SlimPaginator(rows.order(students), PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "search" if rows.get("q") else "list", "student", page)
    rows.remember()
    context = {"page": page, "params": rows.params, "listing": rows}
    return render(request, "casework/student_list.html", context)


@login_required
def student_detail(request, pk):
    student = get_object_or_404(
        access.visible_students(request.user).select_related("school", "home_borough"), pk=pk
    )
    roster_only = access.is_roster_only(request.user, student)
    cases = [] if roster_only else list(access.visible_cases(request.user).filter(student=student))
    can_open = access.may_open_case(request.user, student.school)
    log(request, "view", "student", [student], student=student)
    return render(
        request,
        "casework/student_detail.html",
        {
            "student": student,
            "roster_only": roster_only,
            "cases": cases,
            "can_open": can_open,
            "subject_access": access.keeps_student_records(request.user, student),
        },
    )


def _rule_columns() -> list[dict]:
    """The header row the import reads, as its parser names the columns: required first."""
    optional = [name for name in imports.COLUMNS if name not in imports.REQUIRED]
    return [
        {
            "header": imports.COLUMNS[name][0],
            "also": imports.COLUMNS[name][1:],
            "required": name in imports.REQUIRED,
        }
        for name in (*imports.REQUIRED, *optional)
    ]


@login_required
def roster_import(request):
    """Upload a roster file: checked first (a dry run) unless "save now" is ticked; the job's
    page then saves the checked file with one button (job_save)."""
    schools = access.roster_schools(request.user)
    if not schools:
        raise PermissionDenied
    school = schools[0]
    form = ImportForm(request.POST or None, request.FILES or None)
    columns = _rule_columns()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = roster.start_roster_import(
                    by=request.user,
                    school=school,
                    file_name=upload.name,
                    data=upload.read(roster.MAX_BYTES + 1),
                    dry_run=not form.cleaned_data["save_now"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)  # beside the file field
            else:
                return redirect("casework:job_detail", job.pk)
        status = 400
    context = {
        "form": form,
        "school": school,
        "columns": columns,
        "header_line": ",".join(column["header"] for column in columns),
        "max_mb": roster.MAX_BYTES // (1024 * 1024),
        "max_rows": imports.MAX_ROWS,
    }
    return render(request, "casework/roster_import.html", context, status=status)


def _job_context(job) -> dict:
    return {"job": job, "can_save": roster.may_save_checked(job)}


@login_required
def job_detail(request, pk):
    """A job's progress, polled by htmx while it runs; its row errors quote roster data."""
    job = access.get_visible_job_or_404(request.user, pk)
    if job.kind == Job.Kind.EXPORT:  # an export has a page of its own
        return redirect("casework:export_detail", job.pk)
    log(request, "view", "job", [job])
    template = "casework/_job_status.html" if is_htmx(request) else "casework/job_detail.html"
    return render(request, template, _job_context(job))


@login_required
@require_POST
def job_save(request, pk):
    """Save the file of a clean dry run (no second upload); on to the new job's progress."""
    job = access.get_visible_job_or_404(request.user, pk)
    try:
        saved = roster.save_checked_import(job, by=request.user)
    except (GuardFailed, ValidationError) as exc:
        # Row errors or an earlier save: the dry run's page again, with the reason, as 409.
        job.refresh_from_db()
        log(request, "view", "job", [job])
        reason = exc.message if isinstance(exc, GuardFailed) else " ".join(exc.messages)
        context = _job_context(job) | {"refusal": reason}
        return render(request, "casework/job_detail.html", context, status=409)
    messages.success(request, _("검사한 파일을 저장하고 있습니다."))
    return redirect("casework:job_detail", saved.pk)
