"""Pages of the roster: students, the roster import and its job's progress."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from casework import access, selectors
from casework.forms import (
    ImportForm,
)
from casework.workflows import roster
from core.pagination import SlimPaginator

from .common import PAGE_SIZE, attempt, is_htmx, log

# --- Roster ----------------------------------------------------------------------------------


@login_required
def student_list(request):
    students = selectors.roster(
        request.user,
        q=request.GET.get("q"),
        grade=request.GET.get("grade") or None,
        class_no=request.GET.get("class_no") or None,
    )
    page = SlimPaginator(students, PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "search" if request.GET.get("q") else "list", "student", page)
    return render(request, "casework/student_list.html", {"page": page, "params": request.GET})


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
        {"student": student, "roster_only": roster_only, "cases": cases, "can_open": can_open},
    )


@login_required
def roster_import(request):
    schools = access.roster_schools(request.user)
    if not schools:
        raise PermissionDenied
    school = schools[0]
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = attempt(
            request,
            roster.start_roster_import,
            by=request.user,
            school=school,
            file_name=upload.name,
            data=upload.read(roster.MAX_BYTES + 1),
            dry_run=form.cleaned_data["dry_run"],
        )
        if job:
            return redirect("casework:job_detail", job.pk)
    return render(request, "casework/roster_import.html", {"form": form, "school": school})


@login_required
def job_detail(request, pk):
    """A job's progress, polled by htmx while it runs; its row errors quote roster data."""
    job = access.get_visible_job_or_404(request.user, pk)
    log(request, "view", "job", [job])
    template = "casework/_job_status.html" if is_htmx(request) else "casework/job_detail.html"
    return render(request, template, {"job": job})
