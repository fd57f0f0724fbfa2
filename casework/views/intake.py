"""Pages of intake: the teacher's concerns and the coordinator's work queue, where concerns
are triaged. Objects come through the access selectors (invisible → 404); every page showing
personal data logs one access event."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import access, selectors
from casework.forms import (
    ConcernForm,
    TriageForm,
)
from casework.models import Concern
from casework.workflows import intake
from core.pagination import SlimPaginator
from partners.models import Organization

from .common import PAGE_SIZE, attempt, is_htmx, log

# --- The coordinator's day -------------------------------------------------------------------


@login_required
def queue(request):
    work = selectors.work_queue(request.user)
    shown = [c.student for c in work.new_concerns] + work.consents_missing + work.reviews_due
    log(request, "list", "work_queue", shown)
    return render(request, "casework/queue.html", {"work": work})


# --- Concerns --------------------------------------------------------------------------------


def _teacher_schools(user):
    return Organization.objects.filter(pk__in=[s.pk for s in access.schools_worked_at(user)])


@login_required
def concern_new(request):
    if not _teacher_schools(request.user).exists():
        raise PermissionDenied
    if request.method == "POST":
        form = ConcernForm(request.POST)
        if form.is_valid():
            student = (
                access.visible_students(request.user)
                .filter(pk=form.cleaned_data["student"])
                .first()
            )
            if student is None:
                raise Http404
            concern = attempt(
                request,
                intake.raise_concern,
                by=request.user,
                student=student,
                difficulties=form.cleaned_data["difficulties"],
                description=form.cleaned_data["description"],
                urgency=form.cleaned_data["urgency"],
            )
            if concern:
                messages.success(
                    request,
                    _("%(name)s 학생에 대한 지원 요청을 보냈습니다.") % {"name": student.name},
                )
                return redirect("casework:concern_list")
    else:
        form = ConcernForm()
    students = selectors.roster(
        request.user,
        q=request.GET.get("q"),
        grade=request.GET.get("grade") or None,
        class_no=request.GET.get("class_no") or None,
    ).filter(school__in=_teacher_schools(request.user))[:30]
    students = list(students)
    log(request, "search" if request.GET.get("q") else "list", "student", students)
    context = {"form": form, "students": students}
    if is_htmx(request):
        return render(request, "casework/_roster_pick.html", context)
    return render(request, "casework/concern_new.html", context)


@login_required
def concern_list(request):
    concerns = selectors.visible_concerns(request.user).order_by("status", "-created_at")
    page = SlimPaginator(concerns, PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "list", "concern", page)
    triage_schools = {school.pk for school in access.organizations_where_triaging(request.user)}
    open_cases = {
        c.student_id: c
        for c in access.visible_cases(request.user)
        .filter(student_id__in=[c.student_id for c in page])
        .exclude(status__in=["closed", "not_selected"])
    }
    return render(
        request,
        "casework/concern_list.html",
        {
            "page": page,
            "triage_schools": triage_schools,
            "open_cases": open_cases,
            "triage_form": TriageForm(),
        },
    )


@login_required
@require_POST
def concern_triage(request, pk):
    concern = get_object_or_404(selectors.visible_concerns(request.user), pk=pk)
    form = TriageForm(request.POST)
    if form.is_valid():
        case = None
        if form.cleaned_data["decision"] == Concern.Triage.ATTACH:
            case = (
                access.visible_cases(request.user)
                .filter(student=concern.student)
                .exclude(status__in=["closed", "not_selected"])
                .first()
            )
        result = attempt(
            request,
            intake.triage_concern,
            concern,
            by=request.user,
            decision=form.cleaned_data["decision"],
            case=case,
            reason=form.cleaned_data["reason"],
        )
        if result and result.case_id and result.triage == Concern.Triage.OPEN_CASE:
            messages.success(
                request, _("사례를 개설했습니다: %(number)s") % {"number": result.case.number}
            )
            return redirect("casework:case_detail", result.case_id)
    return redirect("casework:concern_list")
