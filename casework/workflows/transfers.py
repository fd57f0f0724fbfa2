"""Transfers (전학 이관, DESIGN.md §4): the case follows a student who changes school.

The old school requests the hand-over; the new school's coordinator accepts (or declines); on
acceptance ownership moves, the student's school is updated, the old school loses the case
(its history stays for the privacy officer), and the new school's roles get it.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import access
from casework.models import Case, CaseMember, CaseParticipant, Transfer
from casework.notify import members_with_roles, notify
from partners.choices import OrganizationKind, Role
from partners.models import Organization, User

from .common import attribute, require_case_perm, save
from .errors import GuardFailed

T = Transfer.Status


def visible_transfers(user: User):
    """Transfers of cases the user may manage, and those addressed to a school where the user
    is the coordinator (who sees only what the request says until accepting)."""
    cases = access.visible_cases(user, access.MANAGE_CASE).filter(pk=OuterRef("case_id"))
    schools = (
        access.current_memberships(user).filter(role=Role.COORDINATOR).values("organization_id")
    )
    return Transfer.objects.filter(Q(Exists(cases)) | Q(to_school_id__in=schools))


def _url(transfer: Transfer) -> str:
    return "/casework/transfers/"


@transaction.atomic
def request_transfer(case: Case, *, by: User, to_school: Organization, reason: str) -> Transfer:
    require_case_perm(by, access.MANAGE_CASE, case)
    if access.acting_membership(by, case.owner, (Role.COORDINATOR, Role.PRINCIPAL)) is None:
        raise PermissionDenied(_("전학 이관은 현재 학교의 담당자가 요청합니다."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("이관 사유를 적어 주세요.")})
    if to_school.kind != OrganizationKind.SCHOOL or to_school.pk == case.owner_id:
        raise ValidationError({"to_school": _("전학 간 학교를 고르세요.")})
    if not case.is_open:
        raise GuardFailed(_("종결된 사례는 이관할 수 없습니다."))
    if Transfer.objects.filter(case=case, status=T.REQUESTED).exists():
        raise GuardFailed(_("이미 요청된 이관이 있습니다."))
    transfer = Transfer(
        case=case,
        from_school=case.owner,
        to_school=to_school,
        reason=reason.strip(),
        requested_by=by,
    )
    attribute(transfer, by, "전학 이관 요청")
    transfer.save()
    notify(
        members_with_roles(to_school, (Role.COORDINATOR,)),
        kind="transfer_requested",
        title=_("전학 이관 요청: %(school)s → %(to)s")
        % {"school": case.owner.name, "to": to_school.name},
        body=reason.strip(),
        url=_url(transfer),
        exclude=by,
    )
    return transfer


def _require_new_coordinator(user: User, transfer: Transfer) -> None:
    if access.acting_membership(user, transfer.to_school, (Role.COORDINATOR,)) is None:
        raise PermissionDenied(_("전학 간 학교의 담당자만 할 수 있습니다."))


@transaction.atomic
def accept_transfer(transfer: Transfer, *, by: User) -> Transfer:
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    _require_new_coordinator(by, transfer)
    if transfer.status != T.REQUESTED:
        raise GuardFailed(_("요청 중인 이관만 수락할 수 있습니다."))
    case = Case.objects.select_for_update().select_related("student").get(pk=transfer.case_id)
    old, new = case.owner, transfer.to_school
    now = timezone.now()
    # Ownership moves; a school that also led the case hands the lead over too.
    for participant in CaseParticipant.objects.filter(
        case=case, organization=old, until__isnull=True
    ):
        participant.until = now
        attribute(participant, by, "전학 이관")
        participant.save()
    roles = [CaseParticipant.Role.OWNER]
    if case.lead_id == old.pk:
        case.lead = new
        roles.append(CaseParticipant.Role.LEAD)
    for role in roles:
        row = CaseParticipant(case=case, organization=new, role=role)
        attribute(row, by, "전학 이관")
        row.save()
    case.owner = new
    case.coordinator = by
    save(case, by, f"전학 이관: {old.name} → {new.name}", bump=True)
    student = case.student
    student.school = new
    attribute(student, by, "전학")
    student.save()
    # Team members who worked the case for the old school leave it.
    for member in CaseMember.objects.filter(case=case, removed_at__isnull=True).select_related(
        "user"
    ):
        if (
            not access.current_memberships(member.user)
            .filter(organization_id__in=(case.owner_id, case.lead_id))
            .exists()
        ):
            member.removed_at = now
            attribute(member, by, "전학 이관")
            member.save()
    access.revoke_case_from_organization(case, old)
    access.grant_case_to_owner_school(case)
    transfer.status = T.ACCEPTED
    transfer.decided_by = by
    transfer.decided_at = now
    attribute(transfer, by, "전학 이관 수락")
    transfer.save()
    notify(
        [transfer.requested_by, *members_with_roles(old, (Role.COORDINATOR,))],
        kind="transfer_accepted",
        title=_("전학 이관이 완료되었습니다: %(number)s") % {"number": case.number},
        body=new.name,
        exclude=by,
    )
    return transfer


@transaction.atomic
def decline_transfer(transfer: Transfer, *, by: User, reason: str) -> Transfer:
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    _require_new_coordinator(by, transfer)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("거절 사유를 적어 주세요.")})
    if transfer.status != T.REQUESTED:
        raise GuardFailed(_("요청 중인 이관만 거절할 수 있습니다."))
    transfer.status = T.DECLINED
    transfer.response_reason = reason.strip()
    transfer.decided_by = by
    transfer.decided_at = timezone.now()
    attribute(transfer, by, "전학 이관 거절")
    transfer.save()
    notify(
        [transfer.requested_by],
        kind="transfer_declined",
        title=_("전학 이관이 거절되었습니다: %(number)s") % {"number": transfer.case.number},
        body=reason.strip(),
        case=transfer.case,
        url=f"/casework/cases/{transfer.case_id}/",
        exclude=by,
    )
    return transfer


@transaction.atomic
def cancel_transfer(transfer: Transfer, *, by: User, reason: str = "") -> Transfer:
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    require_case_perm(by, access.MANAGE_CASE, transfer.case)
    if transfer.status != T.REQUESTED:
        raise GuardFailed(_("요청 중인 이관만 취소할 수 있습니다."))
    if transfer.case.owner_id != transfer.from_school_id:
        raise GuardFailed(_("이미 학교가 바뀐 사례입니다."))
    transfer.status = T.CANCELLED
    transfer.response_reason = (reason or "").strip()
    transfer.decided_by = by
    transfer.decided_at = timezone.now()
    attribute(transfer, by, "전학 이관 취소")
    transfer.save()
    return transfer
