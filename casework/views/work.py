"""Pages of the school team: cases, the forms of the case page and meetings. Objects come through the access selectors (invisible → 404);
state changes go through workflows; every page showing personal data logs one access event."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import access, actions, audit, instruments, selectors
from casework.choices import ConsentPurpose, Difficulty, RiskLevel
from casework.forms import (
    CaseOpenForm,
    ConsentForm,
    MeetingForm,
    NoteForm,
    PlanForm,
    TeamForm,
    TransitionForm,
)
from casework.models import Case, CaseStatus, Consent, Intervention, Meeting, SupportPlan
from casework.models.referrals import OPEN_STATUSES
from casework.workflows import consents, intake, lifecycle, planning, transfers
from casework.workflows.errors import WorkflowError
from core import listing, params
from core.pagination import SlimPaginator
from partners.models import Membership

from .common import (
    PAGE_SIZE,
    attempt,
    case_sorts,
    export_query,
    is_htmx,
    log,
    visible_case_or_404,
)

# --- Cases -----------------------------------------------------------------------------------


CASE_FILTERS = ("q", "status", "risk_level", "difficulty", "mine")


@login_required
def case_list(request):
    rows = listing.Listing(
        request,
        "cases",
        filters=CASE_FILTERS,
        sorts=case_sorts(),
        default="-updated",
    )
    params = rows.params
    cases = rows.order(
        selectors.case_list(
            request.user,
            status=params.get("status"),
            risk_level=params.get("risk_level"),
            difficulty=params.get("difficulty"),
            q=params.get("q"),
            mine=params.get("mine") == "1",
        )
    )
    page = SlimPaginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "search" if params.get("q") else "list", "case", page)
    rows.remember()
    filtered = params.get("mine") == "1" or any(
        (params.get(name) or "").strip() for name in ("q", "status", "risk_level", "difficulty")
    )
    context = {
        "page": page,
        "listing": rows,
        "rows_target": "#case-rows",
        "statuses": CaseStatus.choices,
        "risks": RiskLevel.choices,
        "difficulties": Difficulty.choices,
        "params": params,
        "filtered": filtered,
        "export_query": export_query("case_list", params, CASE_FILTERS),
        # An empty list says whose cases this person sees (access decides).
        "case_organizations": [o.name for o in access.organizations_seeing_cases(request.user)]
        if not filtered and not page.object_list
        else [],
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
    return _case_page(request, pk)


# Where each form of the case page sits: its section's anchor. A form that fails re-renders
# the page (400) with what was typed, its errors beside its fields and its section open.
SECTIONS = {
    "transition": "next-step",
    "note": "notes",
    "consent": "consent-form",
    "plan": "plans",
    "plan_submit": "plans",
    "intervention": "plans",
    "log": "plans",
    "team_add": "team",
    "team_remove": "team",
    "assessment": "assessment",
    "transfer": "transfer",
}


def _case_page(request, pk, *, failed=None, form=None, errors=(), status=200):
    """The case page; `failed` names the form that was refused, `form` is that form as typed
    and `errors` the refusals that belong to no field."""
    try:
        case = selectors.case_detail(request.user, pk)
    except Case.DoesNotExist as exc:
        raise Http404 from exc
    checker = access.AccessChecker(request.user)
    perms = checker.perms(case)
    notes = list(selectors.list_rows(access.visible_notes(request.user, case), author="user"))
    log(request, "view", "case", [case], case=case, student=case.student)
    bound = {failed: form} if failed and form is not None else {}
    team_form = bound.get("team_add") or TeamForm()
    team_form.fields["user"].choices = [
        (str(m.user_id), f"{m.user} ({m.get_role_display()})") for m in access.team_candidates(case)
    ]
    # A link from the checklist opens the consent form with its subject chosen.
    opened = failed or request.GET.get("open", "")
    subject = request.GET.get("subject", "")
    consent_form = bound.get("consent")
    if consent_form is None and opened == "consent" and subject:
        consent_form = ConsentForm(initial={"subject": subject})
    instrument = instruments.instruments().get("needs_checklist")
    checks = lifecycle.checklist(case)
    forward = lifecycle.FORWARD.get(case.status)
    referral_context = _referral_context(request, case, perms, bound.get("transfer"))
    section_errors = list(errors) + (list(form.non_field_errors()) if form is not None else [])
    plans_case = None
    if SECTIONS.get(failed) == "plans":  # the section is drawn in place, with its error
        plans_case = selectors.case_plans(request.user, pk)
    return render(
        request,
        "casework/case_detail.html",
        {
            "case": case,
            "perms": perms,
            "notes": notes,
            "checks": checks,
            "next_label": CaseStatus(forward).label if forward else "",
            "options": lifecycle.options(case, checks, referrals=referral_context["referrals"]),
            "steps": [(s.value, s.label) for s in CaseStatus if s != CaseStatus.NOT_SELECTED],
            "transition_form": bound.get("transition")
            or TransitionForm(initial={"version": case.version}),
            "note_form": bound.get("note") or NoteForm(),
            "consent_form": consent_form or ConsentForm(),
            "consent_fresh": consent_form is None,
            "plan_form": bound.get("plan") or PlanForm(),
            "plans_case": plans_case,
            "plannable": case.status in planning.PLANNABLE,
            "team_form": team_form,
            "instrument": instrument,
            "instrument_items": instruments.items(instrument) if instrument else [],
            "purpose_labels": dict(ConsentPurpose.choices),
            "failed": failed or "",
            "opened": opened,
            "section": SECTIONS.get(failed, ""),
            "section_errors": section_errors,
            "export_query": export_query("case_summary", {"case": str(case.pk)}, ("case",)),
            **referral_context,
        },
        status=status,
    )


def _referral_context(request, case, perms, transfer_form=None) -> dict:
    """The case page's referrals, its transfer and what the user may start from here."""
    from casework.forms import TransferForm

    sender = access.sending_organization(request.user, case, perms)
    referrals = list(
        case.referrals.select_related("to_organization", "service").order_by("-created_at")
    )
    may_transfer = case.is_open and access.may_request_transfer(request.user, case, perms)
    return {
        "referrals": referrals,
        "can_refer": sender is not None and case.is_open,
        "can_escalate": sender is not None
        and sender.pk == case.owner_id
        and case.lead_id == case.owner_id
        and case.is_open,
        # The workflow's own test, so that no one is shown a form that ends in a refusal.
        "transfer_form": (transfer_form or TransferForm()) if may_transfer else None,
        "transfer_fresh": transfer_form is None,
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
    context = {
        "case": case,
        "perms": perms,
        "plan_form": PlanForm(),
        "plannable": case.status in planning.PLANNABLE,
    }
    return render(request, template, context)


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
# it read (None for the forms without one) and the refusals that belong to none of its fields.


def _run(request, form, workflow, *args, done, **kwargs):
    """Run a workflow for a form of the case page: on success say `done` (a text, or a function
    of the result); a refusal becomes an error of the form's field it names, or of its section.
    Forbidden actions still answer 403."""
    try:
        result = workflow(*args, **kwargs)
    except WorkflowError as exc:
        return None, [exc.message]
    except ValidationError as exc:
        errors = []
        if hasattr(exc, "error_dict"):
            for field, texts in exc.message_dict.items():
                if form is not None and field in form.fields and field not in form.errors:
                    form.add_error(field, texts)
                else:
                    errors.extend(texts)
        else:
            errors.extend(exc.messages)
        return None, errors
    messages.success(request, done(result) if callable(done) else done)
    return result, []


def _transition(request, case):
    action = actions.CASE["transition"]
    form = action.form(request.POST)
    if not form.is_valid():
        return form, []
    _done, errors = _run(
        request,
        form,
        action.run,
        case,
        by=request.user,
        **form.cleaned_data,
        done=lambda moved: (
            _("상태를 바꿨습니다: %(status)s") % {"status": moved.get_status_display()}
        ),
    )
    return form, errors


def _note(request, case):
    action = actions.CASE["note"]
    form = action.form(request.POST)
    if not form.is_valid():
        return form, []
    fields = dict(form.cleaned_data)
    wanted = fields.pop("amends")
    amends = None
    if wanted:
        amends = access.visible_notes(request.user, case).filter(pk=wanted).first()
    if wanted and amends is None:
        # A note that does not exist and one the user may not read answer alike.
        return form, [_("정정할 기록을 찾을 수 없습니다.")]
    _done, errors = _run(
        request,
        form,
        action.run,
        case,
        by=request.user,
        amends=amends,
        **fields,
        done=_("기록을 추가했습니다."),
    )
    return form, errors


def _with_form(name, done):
    def read(request, case):
        action = actions.CASE[name]
        form = action.form(request.POST)
        if not form.is_valid():
            return form, []
        _result, errors = _run(
            request, form, action.run, case, by=request.user, **form.cleaned_data, done=done
        )
        return form, errors

    return read


def _plan_submit(request, case):
    data = request.POST
    plan = get_object_or_404(SupportPlan, pk=data.get("plan"), case=case)
    return None, _run(
        request,
        None,
        actions.PLAN["submit"].run,
        plan,
        by=request.user,
        version=data.get("version"),
        done=_("교장 승인을 요청했습니다. 승인되면 알림이 갑니다."),
    )[1]


def _intervention(request, case):
    data = request.POST
    plan = get_object_or_404(SupportPlan, pk=data.get("plan"), case=case)
    return None, _run(
        request,
        None,
        actions.PLAN["intervention"].run,
        plan,
        by=request.user,
        domain=data.get("domain", ""),
        support_type=data.get("support_type", ""),
        description=data.get("description", ""),
        frequency=data.get("frequency", ""),
        done=_("지원 활동을 추가했습니다."),
    )[1]


def _service_log(request, case):
    data = request.POST
    intervention = get_object_or_404(Intervention, pk=data.get("intervention"), plan__case=case)
    try:
        occurred_on = data.get("occurred_on") and _date(data["occurred_on"])
        minutes = params.integer(
            data.get("duration_minutes"), "duration_minutes", label=_("시간(분)")
        )
    except ValidationError as exc:
        return None, exc.messages
    return None, _run(
        request,
        None,
        actions.INTERVENTION["log"].run,
        intervention,
        by=request.user,
        occurred_on=occurred_on,
        duration_minutes=minutes or 0,
        note=data.get("note", ""),
        done=_("회기를 기록했습니다."),
    )[1]


def _team_add(request, case):
    action = actions.CASE["team_add"]
    form = action.form(request.POST)
    candidates = list(access.team_candidates(case))
    form.fields["user"].choices = [(str(m.user_id), "") for m in candidates]
    if not form.is_valid():
        return form, []
    user = next(m.user for m in candidates if str(m.user_id) == form.cleaned_data["user"])
    _done, errors = _run(
        request,
        form,
        action.run,
        case,
        by=request.user,
        user=user,
        role=form.cleaned_data["role"],
        done=_("%(user)s 님을 사례 팀에 추가했습니다.") % {"user": user},
    )
    return form, errors


def _team_remove(request, case):
    member = (
        case.members.filter(user_id=request.POST.get("user"), removed_at__isnull=True)
        .select_related("user")
        .first()
    )
    if member is None:
        return None, [_("사례 팀에서 찾을 수 없는 사람입니다.")]
    return None, _run(
        request,
        None,
        actions.CASE["team_remove"].run,
        case,
        by=request.user,
        user=member.user,
        done=_("%(user)s 님을 사례 팀에서 제외했습니다.") % {"user": member.user},
    )[1]


def _assessment(request, case):
    instrument = instruments.instruments()["needs_checklist"]
    answers = {
        item["code"]: request.POST.get(item["code"]) for item in instruments.items(instrument)
    }
    answers = {k: v for k, v in answers.items() if v not in (None, "")}
    return None, _run(
        request,
        None,
        actions.CASE["assessment"].run,
        case,
        by=request.user,
        instrument="needs_checklist",
        answers=answers,
        done=_("평가를 저장했습니다."),
    )[1]


CASE_PAGE_FORMS = {
    "transition": _transition,
    "note": _note,
    "consent": _with_form("consent", lambda consent: _("동의를 기록했습니다.")),
    "plan": _with_form(
        "plan", lambda plan: _("%(n)s차 지원 계획을 저장했습니다.") % {"n": plan.sequence}
    ),
    "plan_submit": _plan_submit,
    "intervention": _intervention,
    "log": _service_log,
    "team_add": _team_add,
    "team_remove": _team_remove,
    "assessment": _assessment,
}


def _back_to_case(case):
    # An empty fragment: the page opens at its top, where the confirmation is, and not at the
    # anchor the form was posted from.
    return redirect(reverse("casework:case_detail", args=[case.pk]) + "#")


@login_required
@require_POST
def case_action(request, pk, action):
    """The case page's forms. Each runs one action: done, back to the case page; refused, the
    page again (400) with the form as typed and its errors beside it."""
    case = actions.CASE.find(request.user, pk)
    read = CASE_PAGE_FORMS.get(action)
    if read is None:
        raise Http404
    form, errors = read(request, case)
    if errors or (form is not None and not form.is_valid()):
        return _case_page(request, case.pk, failed=action, form=form, errors=errors, status=400)
    return _back_to_case(case)


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
    errors = []
    if form.is_valid():
        _done, errors = _run(
            request,
            form,
            transfers.request_transfer,
            case,
            by=request.user,
            to_school=form.cleaned_data["to_school"],
            reason=form.cleaned_data["reason"],
            done=_("전학 이관을 요청했습니다. 전학 간 학교의 수락을 기다립니다."),
        )
    if errors or not form.is_valid():
        return _case_page(request, case.pk, failed="transfer", form=form, errors=errors, status=400)
    return _back_to_case(case)


# --- Meetings --------------------------------------------------------------------------------


@login_required
def meeting_list(request):
    rows = listing.Listing(
        request,
        "meetings",
        filters=("kind",),
        sorts={"held": ("held_on", "created_at")},
        default="-held",
    )
    meetings = selectors.meeting_list(request.user, decision_cases=True)
    kind = rows.get("kind")
    if kind in Meeting.Kind.values:
        meetings = meetings.filter(kind=kind)
    page = SlimPaginator(rows.order(meetings), PAGE_SIZE).get_page(request.GET.get("page"))
    visible = selectors.decision_case_ids(request.user, page)
    log(request, "list", "meeting", page)
    rows.remember()
    return render(
        request,
        "casework/meeting_list.html",
        {
            "page": page,
            "visible": visible,
            "listing": rows,
            "kinds": Meeting.Kind.choices,
            "current_kind": kind or "",
            "params": rows.params,
        },
    )


@login_required
def meeting_new(request):
    org = access.meeting_organizations(request.user).order_by("name").first()
    if org is None:
        raise PermissionDenied
    # From a case page's checklist: the case to decide comes chosen, its decision to select.
    wanted = request.GET.get("case", "")
    form = MeetingForm(
        request.POST or None, initial={"case": wanted, "decision": "select"} if wanted else None
    )
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
