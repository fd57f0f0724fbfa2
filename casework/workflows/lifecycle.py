"""The case lifecycle (DESIGN.md §3): every transition, its guards, and the meetings that decide.

identified → reviewing → selected → active ⇄ monitoring → closed → reviewing (reopen)
reviewing → not_selected
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access
from casework.choices import ConsentPurpose, ConsentSubject
from casework.models import (
    Case,
    CaseStatus,
    ClosureReason,
    Decision,
    Meeting,
    Referral,
    ReferralStatus,
    SupportPlan,
)
from casework.notify import notify
from casework.reasons import patterned
from partners.models import Organization, User

from .common import attribute, check_version, require_case_perm, save
from .errors import GuardFailed

S = CaseStatus
ALLOWED = {
    S.IDENTIFIED: {S.REVIEWING, S.CLOSED},
    S.REVIEWING: {S.SELECTED, S.NOT_SELECTED, S.CLOSED},
    S.SELECTED: {S.ACTIVE, S.CLOSED},
    S.ACTIVE: {S.MONITORING, S.CLOSED},
    S.MONITORING: {S.ACTIVE, S.CLOSED},
    S.CLOSED: {S.REVIEWING},
    S.NOT_SELECTED: set(),
}
OPEN_REFERRAL_STATUSES = (
    ReferralStatus.DRAFT,
    ReferralStatus.SENT,
    ReferralStatus.RECEIVED,
    ReferralStatus.ACCEPTED,
    ReferralStatus.IN_PROGRESS,
)
# Who sits in the school meeting (Decree 10): vice-principal convenes, principal accountable.


def has_selection_decision(case: Case) -> bool:
    """A select decision recorded since the case was last closed (a reopened case is decided
    afresh)."""
    decisions = Decision.objects.filter(case=case, decision=Decision.Kind.SELECT)
    last_closed = (
        case.history.filter(status=S.CLOSED)
        .order_by("-history_date")
        .values_list("history_date", flat=True)
        .first()
    )
    if last_closed is not None:
        decisions = decisions.filter(decided_at__gt=last_closed)
    return decisions.exists()


@dataclass(frozen=True)
class Check:
    """One guard of a transition: whether it holds, what it asks for, and which kind of
    record satisfies it ("decision", "student_consent", "guardian_consent", "plan")."""

    done: bool
    label: str
    kind: str


def _activation_checks(case: Case) -> list[Check]:
    today = timezone.localdate()
    subjects = {
        c.subject
        for c in case.consents.all()
        if c.is_valid(today) and ConsentPurpose.SUPPORT in (c.purposes or [])
    }
    approved = getattr(case, "has_approved_plan", None)  # annotated by selectors.case_detail
    if approved is None:
        approved = case.plans.filter(status=SupportPlan.Status.APPROVED).exists()
    return [
        Check(ConsentSubject.STUDENT in subjects, str(_("학생 본인의 동의")), "student_consent"),
        Check(ConsentSubject.GUARDIAN in subjects, str(_("보호자의 동의")), "guardian_consent"),
        Check(bool(approved), str(_("승인된 지원 계획")), "plan"),
    ]


def missing_for_activation(case: Case) -> list[str]:
    """What still stands between a selected case and active support (Act Art. 11③, 12)."""
    return [check.label for check in _activation_checks(case) if not check.done]


# The step forward from each state; the others (not selected, closing) are decisions to stop.
FORWARD = {
    S.IDENTIFIED: S.REVIEWING,
    S.REVIEWING: S.SELECTED,
    S.SELECTED: S.ACTIVE,
    S.ACTIVE: S.MONITORING,
    S.MONITORING: S.ACTIVE,
    S.CLOSED: S.REVIEWING,
}


def checklist(case: Case, to: str | None = None) -> list[Check]:
    """The guards of the move of `case` to `to` (by default its step forward) that a record
    satisfies, each held or not: the same tests `guard` refuses on."""
    to = to or FORWARD.get(case.status)
    if to is None or to not in ALLOWED.get(case.status, set()):
        return []
    if to == S.SELECTED:
        return [
            Check(has_selection_decision(case), str(_("회의의 선정 결정")), "decision"),
        ]
    if to == S.ACTIVE:
        return _activation_checks(case)
    return []


@dataclass(frozen=True)
class Option:
    """A transition the case page offers: forward (primary) or a decision to stop; `blocked`
    says why it cannot succeed now ("" when it can)."""

    to: str
    label: str
    forward: bool
    blocked: str


def options(case: Case, checks: list[Check], *, referrals=None) -> list[Option]:
    """The transitions of `case` that can be asked for now. The forward step is offered only
    when every check holds; closing is refused while a referral is open (`referrals`: the
    case's referrals when the caller has them, else they are looked up)."""
    found = []
    for to in sorted(ALLOWED.get(case.status, set()), key=S.values.index):
        forward = to == FORWARD.get(case.status)
        blocked = ""
        if forward and not all(check.done for check in checks):
            continue  # the checklist says what is missing
        if to == S.CLOSED:
            if referrals is None:
                open_referral = Referral.objects.filter(
                    case=case, status__in=OPEN_REFERRAL_STATUSES
                ).exists()
            else:
                open_referral = any(r.status in OPEN_REFERRAL_STATUSES for r in referrals)
            if open_referral:
                blocked = str(_("진행 중인 의뢰가 있어 종결할 수 없습니다."))
        found.append(Option(to, S(to).label, forward, blocked))
    return found


def guard(case: Case, to: str, *, closure_reason: str, reason: str) -> None:
    """Refuse a transition of `case` to `to` that its state, decisions, consents, plan or open
    referrals do not allow (GuardFailed), or that lacks a reason it needs (ValidationError)."""
    if to not in ALLOWED.get(case.status, set()):
        raise GuardFailed(
            _("%(from)s 상태에서 %(to)s 상태로 바꿀 수 없습니다.")
            % {"from": S(case.status).label, "to": S(to).label}
        )
    if to == S.SELECTED and not has_selection_decision(case):
        raise GuardFailed(_("선정하려면 회의의 선정 결정이 기록되어야 합니다."))
    if to == S.ACTIVE:
        missing = missing_for_activation(case)
        if missing:
            raise GuardFailed(_("지원을 시작하려면 다음이 필요합니다: %s") % ", ".join(missing))
    if to == S.CLOSED:
        if not closure_reason:
            raise ValidationError({"closure_reason": _("종결 사유를 고르세요.")})
        if closure_reason not in ClosureReason.values:
            raise ValidationError({"closure_reason": _("알 수 없는 종결 사유입니다.")})
        if Referral.objects.filter(case=case, status__in=OPEN_REFERRAL_STATUSES).exists():
            raise GuardFailed(_("진행 중인 의뢰가 있어 종결할 수 없습니다."))
    if to == S.NOT_SELECTED and not reason.strip():
        raise ValidationError({"reason": _("미선정 사유를 적어 주세요.")})
    if case.status == S.CLOSED and to == S.REVIEWING and not reason.strip():
        raise ValidationError({"reason": _("다시 여는 사유를 적어 주세요.")})


def apply_transition(
    case: Case, to: str, *, by: User, reason: str, closure_reason: str = ""
) -> Case:
    """Move a locked case to `to` (guarded by the caller), with history and a notification."""
    previous = case.status
    case.status = to
    if to == S.CLOSED:
        case.closure_reason = closure_reason
        case.closed_on = timezone.localdate()
    elif previous == S.CLOSED:
        case.closure_reason = ""
        case.closed_on = None
    label = f"{previous} → {to}" + (f": {reason}" if reason else "")
    save(case, by, label, bump=True)
    notify(
        [case.coordinator, *access.audience(case.owner, "case_transition")],
        kind="case_status",
        params={"name": case.student.name, "number": case.number, "status": S(to).value},
        body=reason,
        case=case,
        url=f"/casework/cases/{case.pk}/",
        exclude=by,
    )
    return case


@transaction.atomic
def transition_case(
    case: Case,
    *,
    by: User,
    to: str,
    reason: str = "",
    closure_reason: str = "",
    version: int | None = None,
) -> Case:
    """Move a case to `to` if its guards hold; records who, when and why."""
    require_case_perm(by, access.MANAGE_CASE, case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    check_version(case, version)
    if to not in S.values:
        raise ValidationError({"to": _("알 수 없는 상태입니다.")})
    guard(case, to, closure_reason=closure_reason, reason=reason)
    if to == S.NOT_SELECTED:
        record_decision(case, by=by, decision=Decision.Kind.NOT_SELECT, reasons=reason)
    return apply_transition(case, to, by=by, reason=reason, closure_reason=closure_reason)


def record_decision(case, *, by, decision, reasons, meeting=None) -> Decision:
    """A decision about the case (a meeting's, an office's on an escalation), with its reasons."""
    row = Decision(case=case, decision=decision, reasons=reasons, decided_by=by, meeting=meeting)
    attribute(row, by, patterned("decision", decision=decision))
    row.save()
    return row


@transaction.atomic
def record_meeting(
    *,
    by: User,
    organization: Organization,
    kind: str,
    held_on,
    attendees: list[User] = (),
    guests: list[str] = (),
    minutes: str = "",
    decisions: list[dict] = (),
) -> Meeting:
    """Minutes of a meeting and its decisions per case; select / not_select / close decisions
    apply that transition to the case (Decree 10: the school decides in its meeting)."""
    if not access.may_record_meeting(by, organization):
        raise PermissionDenied(_("이 기관의 회의를 기록할 권한이 없습니다."))
    if kind not in Meeting.Kind.values:
        raise ValidationError({"kind": _("알 수 없는 회의 종류입니다.")})
    for item in decisions:
        if not (item.get("reasons") or "").strip():
            raise ValidationError({"decisions": _("결정마다 사유를 적어 주세요.")})
        if item.get("decision") not in Decision.Kind.values:
            raise ValidationError({"decisions": _("알 수 없는 결정입니다.")})
    meeting = Meeting(
        organization=organization,
        kind=kind,
        held_on=held_on,
        guests=[g for g in guests if g],
        minutes=minutes,
        recorded_by=by,
    )
    attribute(meeting, by, gettext_noop("회의 기록"))
    meeting.save()
    meeting.attendees.set(attendees)
    for item in decisions:
        _apply_decision(meeting, item, by=by)
    return meeting


def _apply_decision(meeting: Meeting, item: dict, *, by: User) -> Decision:
    case: Case = item["case"]
    kind = item["decision"]
    reasons = item["reasons"]
    # The decision is the meeting's (Decree 10: the vice-principal convenes, the school decides),
    # so the recorder needs to see the case, and the case must be the meeting organisation's.
    require_case_perm(by, access.VIEW_CASE, case)
    if meeting.organization_id not in (case.owner_id, case.lead_id):
        raise ValidationError({"decisions": _("이 기관이 맡은 사례만 결정할 수 있습니다.")})
    if kind == Decision.Kind.APPROVE_PLAN:
        require_case_perm(by, access.APPROVE_PLAN, case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    decision = record_decision(case, by=by, decision=kind, reasons=reasons, meeting=meeting)
    if kind == Decision.Kind.SELECT:
        if case.status == S.IDENTIFIED:  # the meeting is the review
            apply_transition(case, S.REVIEWING, by=by, reason=gettext_noop("회의 검토"))
        guard(case, S.SELECTED, closure_reason="", reason=reasons)
        apply_transition(case, S.SELECTED, by=by, reason=reasons)
    elif kind == Decision.Kind.NOT_SELECT:
        if case.status == S.IDENTIFIED:
            apply_transition(case, S.REVIEWING, by=by, reason=gettext_noop("회의 검토"))
        guard(case, S.NOT_SELECTED, closure_reason="", reason=reasons)
        apply_transition(case, S.NOT_SELECTED, by=by, reason=reasons)
    elif kind == Decision.Kind.CLOSE:
        closure_reason = item.get("closure_reason") or ""
        guard(case, S.CLOSED, closure_reason=closure_reason, reason=reasons)
        apply_transition(case, S.CLOSED, by=by, reason=reasons, closure_reason=closure_reason)
    elif kind == Decision.Kind.APPROVE_PLAN:
        from .planning import approve_plan

        plan = case.plans.filter(status=SupportPlan.Status.SUBMITTED).first()
        if plan is None:
            raise GuardFailed(_("승인을 기다리는 지원 계획이 없습니다."))
        approve_plan(plan, by=by)
    # `escalate` is recorded here; the escalation itself is a referral to the district office.
    return decision
