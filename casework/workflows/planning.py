"""Support plans, interventions and delivered sessions (Act Art. 12)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access
from casework.choices import Domain, SupportType
from casework.models import Case, CaseStatus, Intervention, ServiceLog, SupportPlan
from casework.notify import notify
from casework.reasons import patterned
from partners.models import User

from .common import attribute, check_version, require_case_perm, save
from .errors import GuardFailed

PLANNABLE = (CaseStatus.REVIEWING, CaseStatus.SELECTED, CaseStatus.ACTIVE, CaseStatus.MONITORING)


def _clean_goals(goals) -> list[str]:
    cleaned = [str(g).strip() for g in goals or [] if str(g).strip()]
    if not cleaned:
        raise ValidationError({"goals": _("목표를 하나 이상 적어 주세요.")})
    return cleaned


def _check_period(starts_on: date, ends_on: date | None, review_on: date) -> None:
    if ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": _("종료일은 시작일보다 빠를 수 없습니다.")})
    if review_on < starts_on:
        raise ValidationError({"review_on": _("점검일은 시작일보다 빠를 수 없습니다.")})


@transaction.atomic
def create_plan(
    case: Case, *, by: User, goals, starts_on: date, review_on: date, ends_on: date | None = None
) -> SupportPlan:
    require_case_perm(by, access.MANAGE_CASE, case)
    # The case row is the lock: the status is read on it, and two plans written at once get
    # consecutive sequence numbers (plan_unique_sequence) instead of a 500.
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.status not in PLANNABLE:
        raise GuardFailed(_("이 상태의 사례에는 지원 계획을 세울 수 없습니다."))
    _check_period(starts_on, ends_on, review_on)
    sequence = (case.plans.aggregate(m=Max("sequence"))["m"] or 0) + 1
    plan = SupportPlan(
        case=case,
        sequence=sequence,
        goals=_clean_goals(goals),
        starts_on=starts_on,
        ends_on=ends_on,
        review_on=review_on,
        created_by=by,
    )
    save(plan, by, gettext_noop("계획 작성"))
    return plan


@transaction.atomic
def update_plan(plan: SupportPlan, *, by: User, version: int | None, **fields) -> SupportPlan:
    require_case_perm(by, access.MANAGE_CASE, plan.case)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    check_version(plan, version)
    if plan.status != SupportPlan.Status.DRAFT:
        raise GuardFailed(_("작성 중인 계획만 고칠 수 있습니다."))
    if "goals" in fields:
        fields["goals"] = _clean_goals(fields["goals"])
    for name in ("goals", "starts_on", "ends_on", "review_on"):
        if name in fields:
            setattr(plan, name, fields[name])
    _check_period(plan.starts_on, plan.ends_on, plan.review_on)
    save(plan, by, gettext_noop("계획 수정"), bump=True)
    return plan


@transaction.atomic
def submit_plan(plan: SupportPlan, *, by: User, version: int | None = None) -> SupportPlan:
    require_case_perm(by, access.MANAGE_CASE, plan.case)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    check_version(plan, version)
    if plan.status != SupportPlan.Status.DRAFT:
        raise GuardFailed(_("작성 중인 계획만 승인 요청할 수 있습니다."))
    plan.status = SupportPlan.Status.SUBMITTED
    plan.submitted_at = timezone.now()
    save(plan, by, gettext_noop("승인 요청"), bump=True)
    notify(
        access.audience(plan.case.owner, "plan_submitted"),
        kind="plan_submitted",
        params={"name": plan.case.student.name, "number": plan.case.number},
        case=plan.case,
        url="/casework/approvals/",
        exclude=by,
    )
    return plan


@transaction.atomic
def approve_plan(plan: SupportPlan, *, by: User, version: int | None = None) -> SupportPlan:
    """The principal (or delegate) approves; the previously approved plan is superseded."""
    case = plan.case
    require_case_perm(by, access.APPROVE_PLAN, case)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    check_version(plan, version)
    if plan.status != SupportPlan.Status.SUBMITTED:
        raise GuardFailed(_("승인 요청된 계획만 승인할 수 있습니다."))
    for old in case.plans.select_for_update().filter(status=SupportPlan.Status.APPROVED):
        old.status = SupportPlan.Status.SUPERSEDED
        save(old, by, gettext_noop("새 계획 승인으로 대체"), bump=True)
    plan.status = SupportPlan.Status.APPROVED
    plan.approved_by = by
    plan.approved_at = timezone.now()
    save(plan, by, gettext_noop("계획 승인"), bump=True)
    case = Case.objects.select_for_update().get(pk=case.pk)
    case.review_due_on = plan.review_on
    save(case, by, gettext_noop("계획 승인: 점검일"), bump=True)
    notify(
        [case.coordinator],
        kind="plan_approved",
        params={"name": case.student.name, "number": case.number},
        case=case,
        url=f"/casework/cases/{case.pk}/",
        exclude=by,
    )
    return plan


@transaction.atomic
def return_plan(plan: SupportPlan, *, by: User, reason: str) -> SupportPlan:
    """The approver sends a submitted plan back to draft, saying why."""
    require_case_perm(by, access.APPROVE_PLAN, plan.case)
    if not reason.strip():
        raise ValidationError({"reason": _("돌려보내는 사유를 적어 주세요.")})
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != SupportPlan.Status.SUBMITTED:
        raise GuardFailed(_("승인 요청된 계획만 돌려보낼 수 있습니다."))
    plan.status = SupportPlan.Status.DRAFT
    plan.submitted_at = None
    save(plan, by, patterned("plan_returned", reason=reason), bump=True)
    notify(
        [plan.case.coordinator],
        kind="plan_returned",
        params={"name": plan.case.student.name, "number": plan.case.number},
        body=reason,
        case=plan.case,
        url=f"/casework/cases/{plan.case_id}/",
        exclude=by,
    )
    return plan


@transaction.atomic
def add_intervention(plan: SupportPlan, *, by: User, domain: str, support_type: str, **fields):
    require_case_perm(by, access.MANAGE_CASE, plan.case)
    # A plan being superseded right now (approve_plan) is read on its locked row.
    plan = (
        SupportPlan.objects.select_for_update(of=("self",)).select_related("case").get(pk=plan.pk)
    )
    if plan.status == SupportPlan.Status.SUPERSEDED:
        raise GuardFailed(_("대체된 계획에는 지원 활동을 더할 수 없습니다."))
    if domain not in Domain.values:
        raise ValidationError({"domain": _("알 수 없는 지원 영역입니다.")})
    if support_type not in SupportType.values:
        raise ValidationError({"support_type": _("알 수 없는 지원 유형입니다.")})
    allowed = {
        "description",
        "provider_organization",
        "service",
        "responsible",
        "frequency",
        "starts_on",
        "ends_on",
        "status",
    }
    intervention = Intervention(
        plan=plan,
        domain=domain,
        support_type=support_type,
        **{k: v for k, v in fields.items() if k in allowed and v is not None},
    )
    attribute(intervention, by, gettext_noop("지원 활동 추가"))
    intervention.save()
    return intervention


@transaction.atomic
def log_service(
    intervention: Intervention,
    *,
    by: User,
    occurred_on: date,
    duration_minutes: int = 0,
    attended: bool = True,
    note: str = "",
) -> ServiceLog:
    require_case_perm(by, access.CHANGE_CASE, intervention.plan.case)
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("앞으로의 날짜는 기록할 수 없습니다.")})
    log = ServiceLog(
        intervention=intervention,
        occurred_on=occurred_on,
        duration_minutes=duration_minutes,
        attended=attended,
        note=note,
        recorded_by=by,
    )
    attribute(log, by, gettext_noop("지원 기록"))
    log.save()
    # Two first sessions logged at once start the intervention once (one history row).
    intervention = Intervention.objects.select_for_update(of=("self",)).get(pk=intervention.pk)
    if intervention.status == Intervention.Status.PLANNED:
        intervention.status = Intervention.Status.ONGOING
        attribute(intervention, by, gettext_noop("첫 회기 기록"))
        intervention.save()
    return log
