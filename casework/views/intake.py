"""Pages of intake: the teacher's concerns and the coordinator's work queue, where concerns
are triaged. Objects come through the access selectors (invisible → 404); every page showing
personal data logs one access event."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import access, selectors
from casework.choices import Urgency
from casework.forms import (
    ConcernForm,
    TriageForm,
)
from casework.models import FINISHED_STATUSES, Concern
from casework.workflows import intake
from casework.workflows.errors import WorkflowError
from core.listing import Listing, in_order
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


def _open_case_of(user, student_id):
    """The student's open case the user sees (what a concern may be attached to), if any."""
    return (
        access.visible_cases(user)
        .filter(student_id=student_id)
        .exclude(status__in=FINISHED_STATUSES)
        .first()
    )


def _triage_school_ids(user) -> set:
    return {school.pk for school in access.organizations_where_triaging(user)}


@login_required
def concern_list(request):
    rows = Listing(
        request,
        "concerns",
        filters=("status",),
        sorts={
            "status": (in_order("status", Concern.Status.values), "-created_at"),
            "urgency": (in_order("urgency", Urgency.values), "-created_at"),
            "student": ("student__name", "student__grade", "student__class_no"),
            "created": "created_at",
        },
        default="status",
    )
    concerns = selectors.visible_concerns(request.user)
    status = rows.get("status")
    if status in Concern.Status.values:
        concerns = concerns.filter(status=status)
    page = SlimPaginator(rows.order(concerns), PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "list", "concern", page)
    rows.remember()
    open_cases = {
        c.student_id: c
        for c in access.visible_cases(request.user)
        .filter(student_id__in=[c.student_id for c in page])
        .exclude(status__in=FINISHED_STATUSES)
    }
    return render(
        request,
        "casework/concern_list.html",
        {
            "page": page,
            "listing": rows,
            "statuses": Concern.Status.choices,
            "filtered": status in Concern.Status.values,
            "triage_schools": _triage_school_ids(request.user),
            "open_cases": open_cases,
        },
    )


def _concern_or_404(user, pk) -> Concern:
    return get_object_or_404(selectors.visible_concerns(user).select_related("triaged_by"), pk=pk)


def _concern_page(request, concern: Concern, form: TriageForm, status: int = 200):
    """The concern in full, with the triage forms for whoever may triage it."""
    user = request.user
    triaging = concern.status == Concern.Status.OPEN and concern.school_id in _triage_school_ids(
        user
    )
    log(request, "view", "concern", [concern], student=concern.student)
    return render(
        request,
        "casework/concern_detail.html",
        {
            "concern": concern,
            "triaging": triaging,
            "open_case": _open_case_of(user, concern.student_id) if triaging else None,
            "case_visible": bool(
                concern.case_id and access.visible_cases(user).filter(pk=concern.case_id).exists()
            ),
            "student_visible": access.visible_students(user).filter(pk=concern.student_id).exists(),
            "form": form,
        },
        status=status,
    )


@login_required
def concern_detail(request, pk):
    return _concern_page(request, _concern_or_404(request.user, pk), TriageForm())


def _add_errors(form: TriageForm, exc: ValidationError) -> None:
    """A workflow's refusal of the input, beside the field it is about."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_POST
def concern_triage(request, pk):
    concern = _concern_or_404(request.user, pk)
    if concern.school_id not in _triage_school_ids(request.user):
        raise PermissionDenied
    form = TriageForm(request.POST)
    if form.is_valid():
        decision = form.cleaned_data["decision"]
        case = (
            _open_case_of(request.user, concern.student_id)
            if decision == Concern.Triage.ATTACH
            else None
        )
        try:
            result = intake.triage_concern(
                concern,
                by=request.user,
                decision=decision,
                case=case,
                reason=form.cleaned_data["reason"],
            )
        except WorkflowError as exc:
            messages.error(request, exc.message)
            return redirect("casework:concern_detail", concern.pk)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if result.triage == Concern.Triage.OPEN_CASE:
                messages.success(
                    request, _("사례를 개설했습니다: %(number)s") % {"number": result.case.number}
                )
                return redirect("casework:case_detail", result.case_id)
            if result.triage == Concern.Triage.ATTACH:
                messages.success(
                    request,
                    _("%(name)s 학생의 지원 요청을 진행 중인 사례 %(number)s에 연결했습니다.")
                    % {"name": concern.student.name, "number": result.case.number},
                )
            else:
                messages.success(
                    request,
                    _("%(name)s 학생의 지원 요청을 지원 불필요로 처리했습니다.")
                    % {"name": concern.student.name},
                )
            return redirect("casework:concern_list")
    # The page again, each error beside its field.
    return _concern_page(request, concern, form, status=400)
