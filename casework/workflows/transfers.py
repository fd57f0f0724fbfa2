"""Transfers (전학 이관, DESIGN.md §4): the case follows a student who changes school.

The old school requests the hand-over and the new school's coordinator accepts (or declines) —
or the new school claims it and the old school's coordinator confirms (or declines); on
acceptance ownership moves, the student's school is updated, the old school loses the case
(its history stays for the privacy officer), and the new school's roles get it.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access
from casework.models import (
    FINISHED_STATUSES,
    Case,
    CaseMember,
    CaseParticipant,
    Referral,
    ReferralStatus,
    Transfer,
    TransferClaim,
)
from casework.models.referrals import OPEN_STATUSES
from casework.notify import notify
from casework.reasons import patterned
from partners.choices import OrganizationKind
from partners.models import Organization, User

from .common import attribute, save
from .errors import GuardFailed
from .referral_notices import notify_receivers

T = Transfer.Status


def _url(transfer: Transfer) -> str:
    return "/casework/transfers/"


@transaction.atomic
def request_transfer(case: Case, *, by: User, to_school: Organization, reason: str) -> Transfer:
    if not access.may_request_transfer(by, case):
        raise PermissionDenied(_("전학 이관은 현재 학교의 담당자가 요청합니다."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("이관 사유를 적어 주세요.")})
    if to_school.kind != OrganizationKind.SCHOOL or to_school.pk == case.owner_id:
        raise ValidationError({"to_school": _("전학 간 학교를 고르세요.")})
    # The case row is the lock: its status is read on it, and of two requests at once the
    # second finds the first (409) instead of failing on transfer_one_pending_per_case.
    case = Case.objects.select_for_update(of=("self",)).select_related("owner").get(pk=case.pk)
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
    attribute(transfer, by, gettext_noop("전학 이관 요청"))
    transfer.save()
    _notify_requested(to_school, case, to_school, reason, url=_url(transfer), by=by)
    return transfer


def _notify_requested(recipient_school, case, to_school, reason, *, url, by) -> None:
    """The other side's coordinators learn of a hand-over to decide (a request or a claim)."""
    notify(
        access.audience(recipient_school, "transfer_requested"),
        kind="transfer_requested",
        params={"school": case.owner.name, "to": to_school.name},
        body=reason.strip(),
        url=url,
        exclude=by,
    )


def _require_new_coordinator(user: User, transfer: Transfer) -> None:
    if not access.may_receive_transfer(user, transfer.to_school):
        raise PermissionDenied(_("전학 간 학교의 담당자만 할 수 있습니다."))


@transaction.atomic
def accept_transfer(transfer: Transfer, *, by: User) -> Transfer:
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    _require_new_coordinator(by, transfer)
    if transfer.status != T.REQUESTED:
        raise GuardFailed(_("요청 중인 이관만 수락할 수 있습니다."))
    case, old = _hand_over(transfer, by=by, coordinator=by, reason=gettext_noop("전학 이관 수락"))
    notify(
        [transfer.requested_by, *access.audience(old, "transfer_decided")],
        kind="transfer_accepted",
        params={"number": case.number, "to": transfer.to_school.name},
        exclude=by,
    )
    return transfer


def _hand_over(transfer: Transfer, *, by: User, coordinator: User, reason: str):
    """The hand-over itself, once the other side has agreed (the new school accepted a request,
    or the old school confirmed a claim): ownership, the student's school, the team, the open
    referrals and every grant move to the new school. Returns the case and the old school."""
    case = Case.objects.select_for_update().select_related("student").get(pk=transfer.case_id)
    old, new = case.owner, transfer.to_school
    now = timezone.now()
    # Ownership moves; a school that also led the case hands the lead over too.
    for participant in CaseParticipant.objects.filter(
        case=case, organization=old, until__isnull=True
    ):
        participant.until = now
        attribute(participant, by, gettext_noop("전학 이관"))
        participant.save()
    roles = [CaseParticipant.Role.OWNER]
    if case.lead_id == old.pk:
        case.lead = new
        roles.append(CaseParticipant.Role.LEAD)
    for role in roles:
        row = CaseParticipant(case=case, organization=new, role=role)
        attribute(row, by, gettext_noop("전학 이관"))
        row.save()
    case.owner = new
    case.coordinator = coordinator
    save(case, by, patterned("transfer", old=old.name, new=new.name), bump=True)
    student = case.student
    student.school = new
    attribute(student, by, gettext_noop("전학"))
    student.save()
    # Team members who worked the case for the old school leave it.
    for member in CaseMember.objects.filter(case=case, removed_at__isnull=True).select_related(
        "user"
    ):
        if not access.is_member_of(member.user, case.owner_id) and not access.is_member_of(
            member.user, case.lead_id
        ):
            member.removed_at = now
            attribute(member, by, gettext_noop("전학 이관"))
            member.save()
    # The old school's open referrals follow the case, so that someone can still act on them.
    hand_over_referrals(case, old=old, new=new, by=by)
    access.revoke_case_from_organization(case, old)
    access.grant_case_to_owner_school(case)
    transfer.status = T.ACCEPTED
    transfer.decided_by = by
    transfer.decided_at = now
    attribute(transfer, by, reason)
    transfer.save()
    return case, old


def hand_over_referrals(
    case: Case, *, old: Organization, new: Organization, by: User
) -> list[Referral]:
    """On a transfer, the open referrals the old school sent (drafts included) get the new
    school as their sending side: its case staff cancel, send and write in the thread, its
    outbox lists them, and the case can be closed once they are done. Referrals already closed
    keep the school that sent them; a lead office's own referrals are not the school's to move.
    Runs in the caller's (`accept_transfer`) transaction."""
    moved = []
    for referral in Referral.objects.select_for_update().filter(
        case=case, from_organization=old, status__in=OPEN_STATUSES
    ):
        referral.from_organization = new
        save(
            referral,
            by,
            patterned("transfer_sender", old=old.code, new=new.code),
            bump=True,
        )
        moved.append(referral)
        if referral.status != ReferralStatus.DRAFT:
            notify_receivers(
                referral,
                by=by,
                kind="referral_sender_changed",
                params={"number": referral.number, "new": new.name},
            )
    return moved


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
    attribute(transfer, by, gettext_noop("전학 이관 거절"))
    transfer.save()
    notify(
        [transfer.requested_by],
        kind="transfer_declined",
        params={"number": transfer.case.number},
        body=reason.strip(),
        case=transfer.case,
        url=f"/casework/cases/{transfer.case_id}/",
        exclude=by,
    )
    return transfer


@transaction.atomic
def cancel_transfer(transfer: Transfer, *, by: User, reason: str = "") -> Transfer:
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if not access.may_request_transfer(by, transfer.case):
        raise PermissionDenied(_("전학 이관은 현재 학교의 담당자가 취소합니다."))
    if transfer.status != T.REQUESTED:
        raise GuardFailed(_("요청 중인 이관만 취소할 수 있습니다."))
    if transfer.case.owner_id != transfer.from_school_id:
        raise GuardFailed(_("이미 학교가 바뀐 사례입니다."))
    transfer.status = T.CANCELLED
    transfer.response_reason = (reason or "").strip()
    transfer.decided_by = by
    transfer.decided_at = timezone.now()
    attribute(transfer, by, gettext_noop("전학 이관 취소"))
    transfer.save()
    return transfer


# --- The new school claims (DESIGN.md §4) -----------------------------------------------------
# The claimant names the student by NEIS id (학생개인번호), name and birth date, as its own new
# pupil's records give them; nothing of another school's cases is browsed. Whether or not those
# identify an open case elsewhere, the claimant gets the same answer and sees the claim pending,
# then "not confirmed" once CLAIM_DAYS pass: only the old school's confirmation (the hand-over
# itself) says that there was a case. A decline is not shown to the claimant for that reason.

CLAIM_DAYS = 14


def claimant_status(claim: TransferClaim) -> str:
    """What the claimant is told: confirmed, else pending until CLAIM_DAYS pass, then
    "unconfirmed" — the same for a decline and for identifiers that matched no case."""
    if claim.status == TransferClaim.Status.CONFIRMED:
        return "confirmed"
    if claim.claimed_at < timezone.now() - timedelta(days=CLAIM_DAYS):
        return "unconfirmed"
    return "pending"


def _claimed_case(school: Organization, neis_id: str, name: str, birth_date) -> Case | None:
    """The open case, at another school, of the student these identify (all three must match)."""
    return (
        Case.objects.filter(
            student__neis_id=neis_id,
            student__name=name,
            student__birth_date=birth_date,
            owner_id=F("student__school_id"),
        )
        .exclude(owner=school)
        .exclude(status__in=FINISHED_STATUSES)
        .select_related("owner")
        .first()
    )


@transaction.atomic
def claim_transfer(
    *,
    by: User,
    neis_id: str,
    student_name: str,
    birth_date,
    reason: str,
    to_school: Organization | None = None,
) -> TransferClaim:
    schools = access.transfer_receiving_schools(by)
    if to_school is None and len(schools) == 1:
        to_school = schools[0]
    if to_school is None or to_school.pk not in {s.pk for s in schools}:
        raise PermissionDenied(_("전학 온 학교의 담당자만 이관을 요청할 수 있습니다."))
    neis_id, student_name = (neis_id or "").strip(), (student_name or "").strip()
    errors = {}
    if not neis_id:
        errors["neis_id"] = _("학생개인번호(NEIS)를 적어 주세요.")
    if not student_name:
        errors["student_name"] = _("학생 이름을 적어 주세요.")
    if birth_date is None:
        errors["birth_date"] = _("생년월일을 적어 주세요.")
    if not (reason or "").strip():
        errors["reason"] = _("이관 사유를 적어 주세요.")
    if errors:
        raise ValidationError(errors)
    case = _claimed_case(to_school, neis_id, student_name, birth_date)
    claim = TransferClaim(
        to_school=to_school,
        neis_id=neis_id,
        student_name=student_name,
        birth_date=birth_date,
        reason=reason.strip(),
        case=case,
        claimed_by=by,
    )
    attribute(claim, by, gettext_noop("전학 이관 확인 요청"))
    claim.save()
    if case is not None:
        _notify_requested(case.owner, case, to_school, reason, url=_url(None), by=by)
    return claim


def _locked_claim(claim: TransferClaim, by: User) -> TransferClaim:
    claim = TransferClaim.objects.select_for_update().get(pk=claim.pk)
    # The claimant may not decide their own claim; whether it matched a case is not theirs to
    # learn, so the refusal is the same either way.
    if claim.case_id is None or not access.may_request_transfer(by, claim.case):
        raise PermissionDenied(_("이전 학교의 담당자만 확인할 수 있습니다."))
    if claim.status != TransferClaim.Status.PENDING:
        raise GuardFailed(_("확인을 기다리는 요청만 처리할 수 있습니다."))
    return claim


@transaction.atomic
def confirm_claim(claim: TransferClaim, *, by: User) -> TransferClaim:
    """The old school agrees: the hand-over happens as when the new school accepts a request,
    and the claimant becomes the case's coordinator."""
    claim = _locked_claim(claim, by)
    if claimant_status(claim) == "unconfirmed":
        raise GuardFailed(_("확인 기한이 지난 요청입니다. 전학 간 학교가 다시 요청해야 합니다."))
    case = Case.objects.select_for_update().get(pk=claim.case_id)
    if not case.is_open:
        raise GuardFailed(_("종결된 사례는 이관할 수 없습니다."))
    if Transfer.objects.filter(case=case, status=T.REQUESTED).exists():
        raise GuardFailed(_("이미 요청된 이관이 있습니다."))
    transfer = Transfer(
        case=case,
        from_school=case.owner,
        to_school=claim.to_school,
        reason=claim.reason,
        requested_by=claim.claimed_by,
    )
    attribute(transfer, claim.claimed_by, gettext_noop("전학 이관 확인 요청"))
    transfer.save()
    _hand_over(transfer, by=by, coordinator=claim.claimed_by, reason=gettext_noop("전학 이관 확인"))
    claim.status = TransferClaim.Status.CONFIRMED
    claim.transfer = transfer
    claim.decided_by = by
    claim.decided_at = timezone.now()
    attribute(claim, by, gettext_noop("전학 이관 확인"))
    claim.save()
    notify(
        [claim.claimed_by],
        kind="transfer_accepted",
        params={"number": case.number, "to": claim.to_school.name},
        case=case,
        url=f"/casework/cases/{case.pk}/",
        exclude=by,
    )
    return claim


@transaction.atomic
def decline_claim(claim: TransferClaim, *, by: User, reason: str) -> TransferClaim:
    """The old school does not hand over (not its student, not yet left). The claimant is not
    told (see above); the old school calls them if there is something to say."""
    claim = _locked_claim(claim, by)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("거절 사유를 적어 주세요.")})
    claim.status = TransferClaim.Status.DECLINED
    claim.response_reason = reason.strip()
    claim.decided_by = by
    claim.decided_at = timezone.now()
    attribute(claim, by, gettext_noop("전학 이관 확인 거절"))
    claim.save()
    return claim
