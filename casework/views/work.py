"""Pages of the school team: cases, the forms of the case page and meetings. Objects come through the access selectors (invisible → 404);
state changes go through workflows; every page showing personal data logs one access event."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import access, actions, audit, instruments, selectors
from casework.choices import Difficulty, RiskLevel
from casework.forms import (
    CaseOpenForm,
    ConsentForm,
    MeetingForm,
    NoteForm,
    PlanForm,
    TeamForm,
    TransitionForm,
)
from casework.models import Case, CaseStatus, Consent, Intervention, SupportPlan
from casework.models.referrals import OPEN_STATUSES
from casework.workflows import consents, intake, lifecycle, transfers
from core import params
from core.pagination import SlimPaginator
from partners.models import Membership

from .common import PAGE_SIZE, attempt, form_errors, is_htmx, log, visible_case_or_404

# --- Cases -----------------------------------------------------------------------------------


@login_required
def case_list(request):
    params = request.GET
    cases = selectors.case_list(
        request.user,
        status=params.get("status"),
        risk_level=params.get("risk_level"),
        difficulty=params.get("difficulty"),
        q=params.get("q"),
        mine=params.get("mine") == "1",
    ).order_by("-updated_at")
    page = SlimPaginator(cases, PAGE_SIZE).get_page(params.get("page"))
    log(request, "search" if params.get("q") else "list", "case", page)
    context = {
        "page": page,
        "statuses": CaseStatus.choices,
        "risks": RiskLevel.choices,
        "difficulties": Difficulty.choices,
        "params": params,
    }
    template = "casework/_case_rows.html" if is_htmx(request) else "casework/case_list.html"
    return render(request, template, context)


@login_required
def case_new(request):
    student = get_object_or_404(
        access.visible_students(request.user), pk=request.GET.get("student")
    )
    # A teacher sees the roster student, but opening a case is the coordinator's.
    if not access.may_open_case(request.user, student.school):
        raise PermissionDenied
    form = CaseOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = attempt(
            request, intake.open_case, by=request.user, student=student, **form.cleaned_data
        )
        if case:
            return redirect("casework:case_detail", case.pk)
    log(request, "view", "student", [student], student=student)
    return render(request, "casework/case_new.html", {"form": form, "student": student})


@login_required
def case_detail(request, pk):
    try:
        case = selectors.case_detail(request.user, pk)
    except Case.DoesNotExist as exc:
        raise Http404 from exc
    checker = access.AccessChecker(request.user)
    perms = checker.perms(case)
    notes = list(selectors.list_rows(access.visible_notes(request.user, case), author="user"))
    log(request, "view", "case", [case], case=case, student=case.student)
    team_form = TeamForm()
    team_form.fields["user"].choices = [
        (m.user_id, f"{m.user} ({m.get_role_display()})") for m in access.team_candidates(case)
    ]
    instrument = instruments.instruments().get("needs_checklist")
    transitions = sorted(lifecycle.ALLOWED.get(case.status, set()), key=CaseStatus.values.index)
    return render(
        request,
        "casework/case_detail.html",
        {
            "case": case,
            "perms": perms,
            "notes": notes,
            "transitions": [(s, CaseStatus(s).label) for s in transitions],
            "missing": lifecycle.missing_for_activation(case)
            if case.status == CaseStatus.SELECTED
            else [],
            "steps": [(s.value, s.label) for s in CaseStatus if s != CaseStatus.NOT_SELECTED],
            "transition_form": TransitionForm(initial={"version": case.version}),
            "note_form": NoteForm(),
            "consent_form": ConsentForm(),
            "plan_form": PlanForm(),
            "team_form": team_form,
            "instrument": instrument,
            "instrument_items": instruments.items(instrument) if instrument else [],
            **_referral_context(request, case, perms),
        },
    )


def _referral_context(request, case, perms) -> dict:
    """The case page's referrals, its transfer and what the user may start from here."""
    from casework.forms import TransferForm

    sender = access.sending_organization(request.user, case, perms)
    referrals = list(
        case.referrals.select_related("to_organization", "service").order_by("-created_at")
    )
    return {
        "referrals": referrals,
        "can_refer": sender is not None and case.is_open,
        "can_escalate": sender is not None
        and sender.pk == case.owner_id
        and case.lead_id == case.owner_id
        and case.is_open,
        # The workflow's own test, so that no one is shown a form that ends in a refusal.
        "transfer_form": TransferForm()
        if case.is_open and access.may_request_transfer(request.user, case, perms)
        else None,
        "pending_transfer_to": getattr(case, "pending_transfer_to", None),
    }


@login_required
def case_plans(request, pk):
    """The case page's plans section (plans, interventions, sessions), loaded by htmx."""
    try:
        case = selectors.case_plans(request.user, pk)
    except Case.DoesNotExist as exc:
        raise Http404 from exc
    perms = access.AccessChecker(request.user).perms(case)
    log(request, "view", "support_plan", list(case.plans.all()), case=case, student=case.student)
    template = "casework/_case_plans.html" if is_htmx(request) else "casework/case_plans.html"
    return render(request, template, {"case": case, "perms": perms, "plan_form": PlanForm()})


@login_required
def case_timeline(request, pk):
    """The case page's history section, loaded when it scrolls into view (htmx)."""
    case = visible_case_or_404(request, pk)
    log(request, "view", "case_timeline", [case], case=case, student=case.student)
    hidden = access.hidden_note_ids(request.user, case)
    timeline = audit.case_timeline(case, include_access=False, limit=50, hidden_notes=hidden)
    template = "casework/_case_timeline.html" if is_htmx(request) else "casework/case_timeline.html"
    return render(request, template, {"case": case, "timeline": timeline})


# The case page's forms, by the name each posts to. Each reads its input, turns it into the
# arguments of one action of the table (casework/actions.py) and runs it; it answers the form
# it read (its errors become messages), or None.


def _transition(request, case):
    action = actions.CASE["transition"]
    form = action.form(request.POST)
    if form.is_valid():
        done = attempt(request, action.run, case, by=request.user, **form.cleaned_data)
        if done:
            messages.success(
                request, _("상태를 바꿨습니다: %(status)s") % {"status": done.get_status_display()}
            )
    return form


def _note(request, case):
    action = actions.CASE["note"]
    form = action.form(request.POST)
    if form.is_valid():
        fields = dict(form.cleaned_data)
        wanted = fields.pop("amends")
        amends = None
        if wanted:
            amends = access.visible_notes(request.user, case).filter(pk=wanted).first()
        if wanted and amends is None:
            # A note that does not exist and one the user may not read answer alike.
            messages.error(request, _("정정할 기록을 찾을 수 없습니다."))
        else:
            attempt(request, action.run, case, by=request.user, amends=amends, **fields)
    return form


def _with_form(name):
    def read(request, case):
        action = actions.CASE[name]
        form = action.form(request.POST)
        if form.is_valid():
            attempt(request, action.run, case, by=request.user, **form.cleaned_data)
        return form

    return read


def _plan_submit(request, case):
    data = request.POST
    plan = get_object_or_404(SupportPlan, pk=data.get("plan"), case=case)
    attempt(request, actions.PLAN["submit"].run, plan, by=request.user, version=data.get("version"))


def _intervention(request, case):
    data = request.POST
    plan = get_object_or_404(SupportPlan, pk=data.get("plan"), case=case)
    attempt(
        request,
        actions.PLAN["intervention"].run,
        plan,
        by=request.user,
        domain=data.get("domain", ""),
        support_type=data.get("support_type", ""),
        description=data.get("description", ""),
        frequency=data.get("frequency", ""),
    )


def _service_log(request, case):
    data = request.POST
    intervention = get_object_or_404(Intervention, pk=data.get("intervention"), plan__case=case)
    attempt(
        request,
        actions.INTERVENTION["log"].run,
        intervention,
        by=request.user,
        occurred_on=data.get("occurred_on") and _date(data["occurred_on"]),
        duration_minutes=params.integer(
            data.get("duration_minutes"), "duration_minutes", label=_("시간(분)")
        )
        or 0,
        note=data.get("note", ""),
    )


def _team_add(request, case):
    action = actions.CASE["team_add"]
    form = action.form(request.POST)
    form.fields["user"].choices = [(str(m.user_id), "") for m in access.team_candidates(case)]
    if form.is_valid():
        user = next(
            m.user
            for m in access.team_candidates(case)
            if str(m.user_id) == form.cleaned_data["user"]
        )
        attempt(
            request, action.run, case, by=request.user, user=user, role=form.cleaned_data["role"]
        )
    return form


def _team_remove(request, case):
    member = (
        case.members.filter(user_id=request.POST.get("user"), removed_at__isnull=True)
        .select_related("user")
        .first()
    )
    if member:
        attempt(request, actions.CASE["team_remove"].run, case, by=request.user, user=member.user)


def _assessment(request, case):
    instrument = instruments.instruments()["needs_checklist"]
    answers = {
        item["code"]: request.POST.get(item["code"]) for item in instruments.items(instrument)
    }
    answers = {k: v for k, v in answers.items() if v not in (None, "")}
    attempt(
        request,
        actions.CASE["assessment"].run,
        case,
        by=request.user,
        instrument="needs_checklist",
        answers=answers,
    )


CASE_PAGE_FORMS = {
    "transition": _transition,
    "note": _note,
    "consent": _with_form("consent"),
    "plan": _with_form("plan"),
    "plan_submit": _plan_submit,
    "intervention": _intervention,
    "log": _service_log,
    "team_add": _team_add,
    "team_remove": _team_remove,
    "assessment": _assessment,
}


@login_required
@require_POST
def case_action(request, pk, action):
    """The case page's forms. Each runs one action and returns to the case page."""
    case = actions.CASE.find(request.user, pk)
    read = CASE_PAGE_FORMS.get(action)
    if read is None:
        raise Http404
    form = read(request, case)
    if form is not None and not form.is_valid():
        form_errors(request, form)
    return redirect("casework:case_detail", case.pk)


def _date(text):
    from django.utils.dateparse import parse_date

    try:
        parsed = parse_date(text)
    except ValueError:  # well formed but no such day: 2026-13-45
        parsed = None
    if parsed is None:
        raise ValidationError(_("날짜 형식이 올바르지 않습니다."))
    return parsed


# --- Consent withdrawal and transfer requests from the case page ----------------------------


@login_required
@require_POST
def consent_withdraw(request, pk, consent_pk):
    case = visible_case_or_404(request, pk)
    consent = Consent.objects.filter(case=case, pk=consent_pk).first()
    if consent is None:
        raise Http404
    reason = request.POST.get("reason", "")
    before = set(case.referrals.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
    if attempt(request, consents.withdraw_consent, consent, by=request.user, reason=reason):
        after = set(case.referrals.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
        messages.success(
            request,
            _("동의 철회를 기록했습니다. 취소된 의뢰: %(n)s건") % {"n": len(before - after)},
        )
    return redirect(f"/casework/cases/{case.pk}/#consents")


@login_required
@require_POST
def transfer_request(request, pk):
    from casework.forms import TransferForm

    case = visible_case_or_404(request, pk)
    form = TransferForm(request.POST)
    if form.is_valid():
        if attempt(
            request,
            transfers.request_transfer,
            case,
            by=request.user,
            to_school=form.cleaned_data["to_school"],
            reason=form.cleaned_data["reason"],
        ):
            messages.success(
                request, _("전학 이관을 요청했습니다. 전학 간 학교의 수락을 기다립니다.")
            )
    else:
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, text)
    return redirect("casework:case_detail", pk=case.pk)


# --- Meetings --------------------------------------------------------------------------------


@login_required
def meeting_list(request):
    meetings = selectors.meeting_list(request.user, decision_cases=True)
    page = SlimPaginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    visible = selectors.decision_case_ids(request.user, page)
    log(request, "list", "meeting", page)
    return render(request, "casework/meeting_list.html", {"page": page, "visible": visible})


@login_required
def meeting_new(request):
    org = access.meeting_organizations(request.user).order_by("name").first()
    if org is None:
        raise PermissionDenied
    form = MeetingForm(request.POST or None)
    people = Membership.objects.current().filter(organization=org).select_related("user")
    form.fields["attendees"].choices = [(str(m.user_id), str(m.user)) for m in people]
    cases = list(
        access.visible_cases(request.user)
        .filter(owner=org)
        .exclude(status__in=["closed", "not_selected"])
        .select_related("student")
    )
    form.fields["case"].choices = [
        ("", "-"),
        *[(str(c.pk), f"{c.number} {c.student.name}") for c in cases],
    ]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        decisions = []
        if data["case"] and data["decision"]:
            case = next(c for c in cases if str(c.pk) == data["case"])
            decisions.append(
                {
                    "case": case,
                    "decision": data["decision"],
                    "reasons": data["reasons"],
                    "closure_reason": data["closure_reason"],
                }
            )
        attendees = [m.user for m in people if str(m.user_id) in data["attendees"]]
        meeting = attempt(
            request,
            lifecycle.record_meeting,
            by=request.user,
            organization=org,
            kind=data["kind"],
            held_on=data["held_on"],
            attendees=attendees,
            guests=[g.strip() for g in data["guests"].split(",") if g.strip()],
            minutes=data["minutes"],
            decisions=decisions,
        )
        if meeting:
            messages.success(request, _("회의를 기록했습니다."))
            return redirect("casework:meeting_list")
    log(request, "list", "case", cases)
    return render(request, "casework/meeting_new.html", {"form": form, "organization": org})
