"""Referrals (DESIGN.md §4): escalation to the district office and service referrals to partners.

draft ─send─► sent ─open─► received ─accept─► accepted ─start─► in_progress ─complete─► completed
                 │              └──decline (reason)──► declined
                 └── cancel (sender, reason) from any open state ──► cancelled

The sender's case staff draft, send and cancel; the receiving organisation opens, accepts or
declines (an escalation only by its centre head, with reasons: Act Art. 10⑤), starts and
completes with an outcome that returns to the sender. The receiver of a service referral sees
only the packet taken at send, never the case.

What a referral may share and on what basis is `sharing.py`; who hears of it,
`referral_notices.py`; the packet's retention, `retention.py`; reminders, `reminders.py`; what a
withdrawn or lapsed consent cancels, `consents.py`; a transfer's hand-over, `transfers.py`.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access, deadlines
from casework.choices import LegalBasis, Urgency
from casework.models import (
    Case,
    CaseParticipant,
    CaseStatus,
    Consent,
    Decision,
    DestructionRecord,
    Referral,
    ReferralKind,
    ReferralMessage,
    ReferralStatus,
)
from casework.models.referrals import CLOSED_STATUSES, OPEN_STATUSES
from casework.notify import notify
from casework.packets import build_packet
from casework.reasons import patterned
from partners.choices import Domain, OrganizationKind
from partners.models import Organization, Service, User

from .common import attribute, check_version, save
from .errors import GuardFailed
from .lifecycle import apply_transition, guard, record_decision
from .referral_notices import notify_receivers, notify_senders, referral_url
from .retention import destroy_packet, packet_retention_days, record_destruction
from .sharing import (
    check_consent_holds,
    check_legal_basis,
    check_shared_fields,
    default_shared_fields,
    escalation_target,
    sending_organization,
)

R = ReferralStatus
# Organisations a service referral may go to.
SERVICE_RECEIVER_KINDS = (
    OrganizationKind.PARTNER_AGENCY,
    OrganizationKind.LOCAL_GOVERNMENT,
    OrganizationKind.COMMUNITY_CENTER,
    OrganizationKind.CONTRACTED_AGENCY,
    OrganizationKind.DISTRICT_OFFICE,
    OrganizationKind.PROVINCIAL_OFFICE,
)


def _require_sender(user: User, referral: Referral) -> None:
    if not access.acts_for_referral_sender(user, referral):
        raise PermissionDenied(_("보낸 기관의 사례 담당자만 할 수 있습니다."))


def _require_receiver(user: User, referral: Referral, *, deciding: bool = False) -> None:
    if not access.has_referral_perm(user, access.ACT_ON_REFERRAL, referral):
        raise PermissionDenied(_("받는 기관의 담당자만 할 수 있습니다."))
    if deciding:
        if not access.may_decide_referral(user, referral):
            if referral.kind == ReferralKind.ESCALATION:
                raise PermissionDenied(_("교육지원청 요청은 센터장이 결정합니다."))
            raise PermissionDenied(_("받는 기관의 담당자만 할 수 있습니다."))
    elif not access.holds_role(
        user, referral.to_organization_id, access.receiver_roles(referral.to_organization)
    ):
        raise PermissionDenied(_("받는 기관의 담당자만 할 수 있습니다."))


def _check_case_open(case: Case) -> None:
    if case.status in (CaseStatus.CLOSED, CaseStatus.NOT_SELECTED):
        raise GuardFailed(_("종결되었거나 미선정된 사례에서는 의뢰할 수 없습니다."))


def _check_escalation_target(referral: Referral) -> None:
    """Art. 10④: the school asks its own district office. A transfer to a school under another
    office leaves an undecided escalation addressed to the wrong office: it is cancelled by the
    sender and sent again, never decided by an office that no longer covers the school."""
    if referral.kind != ReferralKind.ESCALATION:
        return
    target = escalation_target(referral.case)
    if target is None or target.pk != referral.to_organization_id:
        raise GuardFailed(
            _(
                "사례의 학교가 바뀌어 이 교육지원청의 관할이 아닙니다. 보낸 학교가 요청을 "
                "취소하고 관할 교육지원청에 다시 요청해야 합니다."
            )
        )


def _next_number(sender: Organization) -> str:
    """`R<year>-<sender code>-<serial>`: numbered per sending organisation, so the number tells
    the receiver nothing about the case or the school behind a district's referral."""
    Organization.objects.select_for_update().filter(pk=sender.pk).first()  # serialise
    prefix = f"R{deadlines.today().year}-{sender.code}-"
    last = (
        Referral.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    serial = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{serial:04d}"


@transaction.atomic
def create_referral(
    case: Case,
    *,
    by: User,
    kind: str,
    to_organization: Organization,
    reason: str,
    shared_fields: list[str] | None = None,
    service: Service | None = None,
    requested_domains: list[str] | None = None,
    requested_support: str = "",
    legal_basis: str = LegalBasis.CONSENT,
    consent: Consent | None = None,
    justification: str = "",
    urgency: str = Urgency.NORMAL,
    respond_by=None,
    notes_excerpt: str = "",
    consent_at_send: bool = False,
) -> Referral:
    """A draft referral. Nothing leaves the sender until `send_referral`. With
    `consent_at_send` (`draft_referral`) a draft on the consent basis is kept even while the
    consent is missing: a draft shares nothing, and sending checks the consent again."""
    sender = sending_organization(by, case)
    if sender is None:
        raise PermissionDenied(_("이 사례의 의뢰는 사례 담당자만 작성할 수 있습니다."))
    if kind not in ReferralKind.values:
        raise ValidationError({"kind": _("알 수 없는 의뢰 종류입니다.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("의뢰 사유를 적어 주세요.")})
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": _("알 수 없는 긴급도입니다.")})
    if set(requested_domains or []) - set(Domain.values):
        raise ValidationError({"requested_domains": _("알 수 없는 지원 영역이 있습니다.")})
    if respond_by is not None and respond_by < deadlines.today():
        raise ValidationError({"respond_by": _("회신 기한은 오늘 이후여야 합니다.")})
    if consent is not None and consent.case_id != case.pk:
        raise ValidationError({"consent": _("이 사례의 동의가 아닙니다.")})
    # The case row is the lock: its status and lead are read on it, and two escalations at
    # once give one referral and a 409.
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    _check_case_open(case)
    if kind == ReferralKind.ESCALATION:
        target = escalation_target(case)
        if sender.pk != case.owner_id:
            raise GuardFailed(_("교육지원청 요청은 소속 학교만 보낼 수 있습니다."))
        if target is None or to_organization.pk != target.pk:
            raise ValidationError(
                {
                    "to_organization": _(
                        "교육지원청 요청은 학교를 관할하는 교육지원청으로만 보냅니다."
                    )
                }
            )
        if case.lead_id != case.owner_id:
            raise GuardFailed(_("이미 교육지원청이 주관하는 사례입니다."))
        if Referral.objects.filter(
            case=case, kind=ReferralKind.ESCALATION, status__in=OPEN_STATUSES
        ).exists():
            raise GuardFailed(_("이 사례에는 이미 진행 중인 교육지원청 요청이 있습니다."))
        service = None
    else:
        if to_organization.kind not in SERVICE_RECEIVER_KINDS or to_organization.pk == sender.pk:
            raise ValidationError({"to_organization": _("의뢰할 수 없는 기관입니다.")})
        if service is not None and service.organization_id != to_organization.pk:
            raise ValidationError({"service": _("받는 기관의 서비스가 아닙니다.")})
    if shared_fields is None:
        shared_fields = default_shared_fields(sender, to_organization)
    referral = Referral(
        case=case,
        kind=kind,
        from_organization=sender,
        to_organization=to_organization,
        service=service,
        reason=reason.strip(),
        requested_domains=list(requested_domains or []),
        requested_support=requested_support or "",
        shared_fields=list(dict.fromkeys(shared_fields)),
        notes_excerpt=notes_excerpt or "",
        legal_basis=legal_basis,
        consent=consent,
        justification=justification or "",
        urgency=urgency,
        respond_by=respond_by,
        created_by=by,
    )
    check_shared_fields(referral, at_send=False)
    if not consent_at_send or referral.legal_basis != LegalBasis.CONSENT or consent is not None:
        check_legal_basis(referral)
    referral.number = _next_number(sender)
    attribute(referral, by, gettext_noop("의뢰 작성"))
    referral.save()
    return referral


def draft_referral(case: Case, *, by: User, **fields) -> Referral:
    """The referral form's 임시 저장: kept whatever the consent state (`fields` as for
    `create_referral`); `send_referral` refuses until the consents cover the receiver."""
    return create_referral(case, by=by, consent_at_send=True, **fields)


@dataclass(frozen=True)
class ReferralPreview:
    """What the receiver would get if the referral went now. `referral` was never kept: it is
    the draft as it stood before the preview rolled back."""

    referral: Referral
    packet: dict
    respond_by: date


def preview_referral(case: Case, *, by: User, **fields) -> ReferralPreview:
    """Run every guard and take the packet as sending would (`fields` as for
    `create_referral`), then roll back: nothing of the preview is kept, not even the number."""
    with transaction.atomic():
        referral = create_referral(case, by=by, **fields)
        referral.agreement = check_shared_fields(referral, at_send=True)
        check_legal_basis(referral)
        packet = build_packet(referral)
        transaction.set_rollback(True)
    respond_by = referral.respond_by or deadlines.default_respond_by(referral.urgency)
    return ReferralPreview(referral=referral, packet=packet, respond_by=respond_by)


@transaction.atomic
def create_and_send_referral(case: Case, *, by: User, **fields) -> Referral:
    """Draft and send in one step (`fields` as for `create_referral`): both happen or neither."""
    return send_referral(create_referral(case, by=by, **fields), by=by)


def locked_referral(referral: Referral) -> Referral:
    return Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)


def _move(referral: Referral, to: str, *, by: User, reason: str) -> Referral:
    previous = referral.status
    referral.status = to
    now = timezone.now()
    stamp = {
        R.SENT: "sent_at",
        R.RECEIVED: "received_at",
        R.ACCEPTED: "accepted_at",
        R.IN_PROGRESS: "started_at",
    }.get(to)
    if stamp:
        setattr(referral, stamp, now)
    if to in CLOSED_STATUSES:
        referral.closed_at = now
        if referral.packet is not None:
            referral.packet_expires_on = timezone.localdate() + timedelta(
                days=packet_retention_days(referral)
            )
    label = f"{previous} → {to}" + (f": {reason}" if reason else "")
    save(referral, by, label, bump=True)
    return referral


@transaction.atomic
def send_referral(referral: Referral, *, by: User, version: int | None = None) -> Referral:
    """Check the guards again, take the packet, start the clock and open the referral to the
    receiving organisation."""
    referral = locked_referral(referral)
    _require_sender(by, referral)
    check_version(referral, version)
    if referral.status != R.DRAFT:
        raise GuardFailed(_("작성 중인 의뢰만 보낼 수 있습니다."))
    _check_case_open(referral.case)
    _check_escalation_target(referral)
    referral.agreement = check_shared_fields(referral, at_send=True)
    check_legal_basis(referral)
    referral.privacy_review = referral.legal_basis != LegalBasis.CONSENT
    referral.packet = build_packet(referral)
    if referral.respond_by is None or referral.respond_by < deadlines.today():
        referral.respond_by = deadlines.default_respond_by(referral.urgency)
    _move(referral, R.SENT, by=by, reason="")
    access.grant_referral_to_receiver(referral)
    notify_receivers(
        referral,
        by=by,
        kind="referral_received",
        params={
            "number": referral.number,
            "variant": str(referral.kind),
            "org": referral.from_organization.name,
            "date": referral.respond_by.isoformat(),
        },
    )
    return referral


@transaction.atomic
def open_referral(referral: Referral, *, by: User) -> Referral:
    """The receiving organisation acknowledges receipt (접수). Reading alone never does this."""
    referral = locked_referral(referral)
    _require_receiver(by, referral)
    if referral.status != R.SENT:
        raise GuardFailed(_("발송된 의뢰만 접수할 수 있습니다."))
    _move(referral, R.RECEIVED, by=by, reason="")
    notify_senders(
        referral,
        by=by,
        kind="referral_received_ack",
        params={"org": referral.to_organization.name, "number": referral.number},
    )
    return referral


def _receive_first(referral: Referral, by: User) -> None:
    """Accepting or declining straight from the inbox records the receipt first."""
    if referral.status == R.SENT:
        _move(referral, R.RECEIVED, by=by, reason="")


@transaction.atomic
def accept_referral(
    referral: Referral, *, by: User, reasons: str = "", version: int | None = None
) -> Referral:
    referral = locked_referral(referral)
    _require_receiver(by, referral, deciding=True)
    check_version(referral, version)
    if referral.status not in (R.SENT, R.RECEIVED):
        raise GuardFailed(_("접수된 의뢰만 수락할 수 있습니다."))
    check_consent_holds(referral)
    escalation = referral.kind == ReferralKind.ESCALATION
    if escalation and not (reasons or "").strip():
        raise ValidationError({"reasons": _("결정 사유를 적어 주세요. (법 제10조⑤)")})
    _check_escalation_target(referral)
    _receive_first(referral, by)
    referral.decision_reasons = (reasons or "").strip()
    if referral.assignee_id is None and not escalation:
        referral.assignee = by
    _move(referral, R.ACCEPTED, by=by, reason=referral.decision_reasons)
    if escalation:
        _take_lead(referral, by=by)
    else:
        add_participant(referral.case, referral.to_organization, by=by)
    notify_senders(
        referral,
        by=by,
        kind="referral_accepted",
        params={"org": referral.to_organization.name, "number": referral.number},
        body=referral.decision_reasons,
    )
    return referral


def add_participant(case: Case, organization: Organization, *, by: User, role=None) -> None:
    role = role or CaseParticipant.Role.SUPPORT
    if CaseParticipant.objects.filter(
        case=case, organization=organization, role=role, until__isnull=True
    ).exists():
        return
    participant = CaseParticipant(case=case, organization=organization, role=role)
    attribute(participant, by, gettext_noop("참여 기관 추가"))
    participant.save()


def _take_lead(referral: Referral, *, by: User) -> None:
    """Art. 10⑤: the office decides, and from now on leads the case with the school."""
    office = referral.to_organization
    case = Case.objects.select_for_update().get(pk=referral.case_id)
    record_decision(case, by=by, decision=Decision.Kind.SELECT, reasons=referral.decision_reasons)
    for participant in CaseParticipant.objects.filter(
        case=case, role=CaseParticipant.Role.LEAD, until__isnull=True
    ):
        participant.until = timezone.now()
        attribute(participant, by, gettext_noop("주관 기관 변경"))
        participant.save()
    add_participant(case, office, by=by, role=CaseParticipant.Role.LEAD)
    case.lead = office
    save(case, by, patterned("lead_office", office=office.name), bump=True)
    access.grant_case_to_lead_office(case, office)
    if case.status == CaseStatus.IDENTIFIED:
        apply_transition(case, CaseStatus.REVIEWING, by=by, reason=gettext_noop("교육지원청 검토"))
    if case.status == CaseStatus.REVIEWING:
        guard(case, CaseStatus.SELECTED, closure_reason="", reason=referral.decision_reasons)
        apply_transition(case, CaseStatus.SELECTED, by=by, reason=referral.decision_reasons)


@transaction.atomic
def decline_referral(
    referral: Referral, *, by: User, reason: str, version: int | None = None
) -> Referral:
    referral = locked_referral(referral)
    _require_receiver(by, referral, deciding=True)
    check_version(referral, version)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("거절 사유를 적어 주세요.")})
    if referral.status not in (R.SENT, R.RECEIVED):
        raise GuardFailed(_("접수된 의뢰만 거절할 수 있습니다."))
    _receive_first(referral, by)
    referral.decline_reason = reason.strip()
    if referral.kind == ReferralKind.ESCALATION:
        referral.decision_reasons = reason.strip()
        record_decision(
            referral.case, by=by, decision=Decision.Kind.NOT_SELECT, reasons=reason.strip()
        )
    _move(referral, R.DECLINED, by=by, reason=reason.strip())
    notify_senders(
        referral,
        by=by,
        kind="referral_declined",
        params={"org": referral.to_organization.name, "number": referral.number},
        body=reason.strip(),
    )
    return referral


@transaction.atomic
def start_referral(referral: Referral, *, by: User, version: int | None = None) -> Referral:
    referral = locked_referral(referral)
    _require_receiver(by, referral)
    check_version(referral, version)
    if referral.status != R.ACCEPTED:
        raise GuardFailed(_("수락한 의뢰만 지원을 시작할 수 있습니다."))
    check_consent_holds(referral)
    _move(referral, R.IN_PROGRESS, by=by, reason="")
    notify_senders(
        referral,
        by=by,
        kind="referral_started",
        params={"org": referral.to_organization.name, "number": referral.number},
    )
    return referral


@transaction.atomic
def complete_referral(
    referral: Referral, *, by: User, outcome: str, version: int | None = None
) -> Referral:
    """The loop closes: the outcome returns to the sender."""
    referral = locked_referral(referral)
    _require_receiver(by, referral)
    check_version(referral, version)
    if not (outcome or "").strip():
        raise ValidationError({"outcome": _("결과를 적어 주세요. 보낸 기관에 전달됩니다.")})
    if referral.status != R.IN_PROGRESS:
        raise GuardFailed(_("지원을 시작한 의뢰만 완료할 수 있습니다."))
    referral.outcome = outcome.strip()
    _move(referral, R.COMPLETED, by=by, reason="")
    notify_senders(
        referral,
        by=by,
        kind="referral_completed",
        params={"number": referral.number},
        body=referral.outcome,
    )
    return referral


@transaction.atomic
def cancel_referral(
    referral: Referral, *, by: User, reason: str, version: int | None = None
) -> Referral:
    referral = locked_referral(referral)
    _require_sender(by, referral)
    check_version(referral, version)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("취소 사유를 적어 주세요.")})
    return _cancel(referral, by=by, reason=reason.strip())


def cancel_and_revoke_referral(
    referral: Referral, *, by: User | None, reason: str, detail: str = ""
) -> Referral:
    """Cancel an open referral whose legal basis is gone: its packet is destroyed (a line of the
    register of destruction, `detail` naming why), its receiver loses it at once and is told.
    In the caller's transaction, on a referral the caller has locked (the consent cascade)."""
    return _cancel(referral, by=by, reason=reason, revoke=True, detail=detail)


def _cancel(
    referral: Referral, *, by: User | None, reason: str, revoke: bool = False, detail: str = ""
) -> Referral:
    if referral.status not in OPEN_STATUSES:
        raise GuardFailed(_("이미 끝난 의뢰는 취소할 수 없습니다."))
    was_sent = referral.status != R.DRAFT
    referral.cancel_reason = reason
    destroyed = destroy_packet(referral) if revoke else []
    _move(referral, R.CANCELLED, by=by, reason=reason)
    if revoke:
        access.revoke_referral_from_receiver(referral)
        if destroyed:
            record_destruction(
                referral,
                by=by,
                rule=DestructionRecord.Rule.CONSENT_WITHDRAWN,
                parts=destroyed,
                detail=detail,
            )
    if was_sent:
        notify_receivers(
            referral,
            by=by,
            kind="referral_cancelled",
            params={"number": referral.number},
            body=reason,
        )
    return referral


@transaction.atomic
def assign_referral(referral: Referral, *, by: User, assignee: User) -> Referral:
    """The receiving side's lead (or a worker taking it themself) names who works it."""
    referral = locked_referral(referral)
    _require_receiver(by, referral)
    if assignee.pk != by.pk and (not access.may_assign_referral(by, referral)):
        raise PermissionDenied(_("담당자 지정은 기관 책임자만 할 수 있습니다."))
    if not access.may_receive_referrals(assignee, referral.to_organization):
        raise ValidationError({"assignee": _("받는 기관에서 의뢰를 처리하는 사람이 아닙니다.")})
    if referral.status not in OPEN_STATUSES or referral.status == R.DRAFT:
        raise GuardFailed(_("진행 중인 의뢰에만 담당자를 지정할 수 있습니다."))
    referral.assignee = assignee
    save(
        referral,
        by,
        patterned("assignee", name=assignee.name or assignee.username),
        bump=True,
    )
    notify(
        [assignee],
        kind="referral_assigned",
        params={"number": referral.number},
        url=referral_url(referral),
        exclude=by,
    )
    return referral


@transaction.atomic
def post_message(referral: Referral, *, by: User, body: str) -> ReferralMessage:
    """A message in the thread between the two sides."""
    if not (body or "").strip():
        raise ValidationError({"body": _("내용을 적어 주세요.")})
    referral = locked_referral(referral)
    if referral.status == R.DRAFT:
        raise GuardFailed(_("보내기 전의 의뢰에는 메시지를 남길 수 없습니다."))
    receiver = access.has_referral_perm(by, access.ACT_ON_REFERRAL, referral)
    sender = access.is_referral_sender(by, referral)
    if not (receiver or sender):
        raise PermissionDenied(_("의뢰를 주고받는 기관만 메시지를 남길 수 있습니다."))
    organization = (
        referral.to_organization if receiver and not sender else referral.from_organization
    )
    message = ReferralMessage(
        referral=referral, author=by, organization=organization, body=body.strip()
    )
    attribute(message, by, gettext_noop("의뢰 메시지"))
    message.save()
    params = {"number": referral.number}
    if organization.pk == referral.to_organization_id:
        notify_senders(referral, by=by, kind="referral_message", params=params, body=body[:200])
    else:
        notify_receivers(referral, by=by, kind="referral_message", params=params, body=body[:200])
    return message
