"""Referrals (DESIGN.md §4): escalation to the district office and service referrals to partners.

draft ─send─► sent ─open─► received ─accept─► accepted ─start─► in_progress ─complete─► completed
                 │              └──decline (reason)──► declined
                 └── cancel (sender, reason) from any open state ──► cancelled

The sender's case staff draft, send and cancel; the receiving organisation opens, accepts or
declines (an escalation only by its centre head, with reasons: Act Art. 10⑤), starts and
completes with an outcome that returns to the sender. The receiver of a service referral sees
only the packet taken at send, never the case.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import access, deadlines
from casework.choices import ConsentPurpose, ConsentSubject, LegalBasis, Urgency
from casework.models import (
    Case,
    CaseMember,
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
from partners.catalogue import field_codes
from partners.choices import Domain, OrganizationKind
from partners.models import Agreement, Organization, Service, User

from .common import attribute, check_version, save
from .errors import GuardFailed

R = ReferralStatus
# Who sends for a case: the school's coordinator and principal, a lead office's case managers.
# Who may lead the receiving side's work allocation.
# Organisations a service referral may go to.
SERVICE_RECEIVER_KINDS = (
    OrganizationKind.PARTNER_AGENCY,
    OrganizationKind.LOCAL_GOVERNMENT,
    OrganizationKind.COMMUNITY_CENTER,
    OrganizationKind.CONTRACTED_AGENCY,
    OrganizationKind.DISTRICT_OFFICE,
    OrganizationKind.PROVINCIAL_OFFICE,
)
NON_SENSITIVE_DEFAULTS = (
    "student_name",
    "grade",
    "school",
    "birth_year",
    "sex",
    "guardian_contact",
    "home_borough",
    "difficulties",
    "risk_level",
    "reason",
    "requested_support",
)


def _url(referral: Referral) -> str:
    return f"/casework/referrals/{referral.pk}/"


# --- What a sender may send -----------------------------------------------------------------


def escalation_target(case: Case) -> Organization | None:
    """The education office an escalation of this case goes to: the owner school's district
    office (Sejong's schools: the provincial office)."""
    parent = case.owner.parent
    chain = parent.education_offices_above() if parent is not None else []
    return chain[0] if chain else None


def agreement_for(sender: Organization, receiver: Organization) -> Agreement | None:
    """The active data-sharing agreement that covers a referral from `sender` to `receiver`:
    made by any education office at or above the sender (Decree 15④⑤)."""
    offices = sender.education_offices_above() if sender.is_education_office else []
    if not sender.is_education_office and sender.parent is not None:
        offices = sender.parent.education_offices_above()
    return (
        Agreement.objects.active_on()
        .filter(partner=receiver, office__in=offices)
        .order_by("-valid_from")
        .first()
    )


def allowed_fields(
    sender: Organization, receiver: Organization
) -> tuple[set[str], Agreement | None]:
    """Packet fields the receiver may get. Within the education system no agreement is needed;
    outside it, the agreement's list (none without an agreement)."""
    if receiver.is_education_office:
        return set(field_codes()), None
    agreement = agreement_for(sender, receiver)
    if agreement is None:
        return set(), None
    return set(agreement.allowed_fields or []) & set(field_codes()), agreement


def _consent_purpose(receiver: Organization) -> str:
    return (
        ConsentPurpose.SHARE_WITH_OFFICE
        if receiver.is_education_office
        else ConsentPurpose.SHARE_WITH_PARTNERS
    )


def consent_purpose_label(receiver: Organization) -> str:
    return str(ConsentPurpose(_consent_purpose(receiver)).label)


def default_shared_fields(sender: Organization, receiver: Organization) -> list[str]:
    """The fields ticked unless the sender chooses: the non-sensitive ones the receiver may get
    (its agreement's list; an education office may get them all)."""
    allowed = allowed_fields(sender, receiver)[0]
    return [c for c in NON_SENSITIVE_DEFAULTS if c in allowed]


def _recipient_ok(consent: Consent, receiver: Organization) -> bool:
    """`recipients` empty means any organisation the purposes cover; otherwise it names the
    organisation (id or code) or its kind / agency type."""
    names = {str(r) for r in consent.recipients or []}
    if not names:
        return True
    return bool(
        names & {str(receiver.pk), receiver.code, receiver.kind, receiver.agency_type or "-"}
    )


def consents_covering(case: Case, receiver: Organization, day=None) -> dict[str, Consent]:
    """Valid consents of the case, by subject, that allow sharing with `receiver`."""
    purpose = _consent_purpose(receiver)
    found: dict[str, Consent] = {}
    for consent in case.consents.order_by("-given_on"):
        if (
            consent.is_valid(day)
            and purpose in (consent.purposes or [])
            and _recipient_ok(consent, receiver)
        ):
            found.setdefault(consent.subject, consent)
    return found


def missing_consent(case: Case, receiver: Organization, day=None) -> list[str]:
    """Whose consent to share with `receiver` is still missing (student and guardian both)."""
    found = consents_covering(case, receiver, day)
    missing = []
    if ConsentSubject.STUDENT not in found:
        missing.append(str(_("학생 본인의 정보 제공 동의")))
    if ConsentSubject.GUARDIAN not in found:
        missing.append(str(_("보호자의 정보 제공 동의")))
    return missing


def lapsed_consent(case: Case, receiver: Organization, day=None) -> Consent | None:
    """A consent that would cover sharing with `receiver` on `day` but for its expiry, of a
    subject no valid consent covers. Its last valid day is `expires_on` (Consent.is_valid);
    after that it counts for nothing, as if withdrawn."""
    day = day or deadlines.today()
    found = consents_covering(case, receiver, day)
    purpose = _consent_purpose(receiver)
    for consent in case.consents.filter(withdrawn_on__isnull=True, expires_on__lt=day).order_by(
        "-expires_on"
    ):
        if (
            consent.subject not in found
            and purpose in (consent.purposes or [])
            and _recipient_ok(consent, receiver)
        ):
            return consent
    return None


def _check_consent_holds(referral: Referral) -> None:
    """A referral on the consent basis goes on (accepted, started) only while valid consents
    still cover its receiver: an expired consent counts for nothing, even before the daily job
    (`lapse_expired_consents`) has cancelled the referral."""
    if referral.legal_basis != LegalBasis.CONSENT:
        return
    if not missing_consent(referral.case, referral.to_organization):
        return
    lapsed = lapsed_consent(referral.case, referral.to_organization)
    if lapsed is not None:
        raise GuardFailed(
            _(
                "이 의뢰의 근거인 동의가 만료되어(만료일 %(date)s) 더 진행할 수 없습니다. 보낸 "
                "기관이 새 동의를 받아 다시 의뢰해야 합니다."
            )
            % {"date": lapsed.expires_on.isoformat()}
        )
    raise GuardFailed(_("이 의뢰의 근거인 동의가 더 이상 유효하지 않아 진행할 수 없습니다."))


def sending_organization(user: User, case: Case) -> Organization | None:
    """Where the user sends from for this case (access decides)."""
    return access.sending_organization(user, case)


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


def _check_fields(
    referral: Referral, *, at_send: bool
) -> Agreement | None:  # ValidationError / GuardFailed
    shared = list(referral.shared_fields or [])
    unknown = set(shared) - set(field_codes())
    if unknown:
        raise ValidationError(
            {"shared_fields": _("알 수 없는 항목: %s") % ", ".join(sorted(unknown))}
        )
    allowed, agreement = allowed_fields(referral.from_organization, referral.to_organization)
    if not referral.to_organization.is_education_office and agreement is None:
        raise GuardFailed(
            _("%(org)s과(와) 유효한 정보공유 협약이 없어 의뢰할 수 없습니다.")
            % {"org": referral.to_organization.name}
        )
    if not shared:
        raise ValidationError({"shared_fields": _("공유할 항목을 하나 이상 고르세요.")})
    beyond = set(shared) - allowed
    if beyond:
        from partners.catalogue import packet_fields

        labels = ", ".join(str(packet_fields()[c].label) for c in shared if c in beyond)
        raise GuardFailed(
            _(
                "%(org)s과(와)의 정보공유 협약이 허용하지 않는 항목입니다: %(fields)s. 이 "
                "항목을 빼고 보내세요."
            )
            % {"org": referral.to_organization.name, "fields": labels}
        )
    if "notes_excerpt" in shared and at_send and not referral.notes_excerpt.strip():
        raise ValidationError(
            {"notes_excerpt": _("'상담 기록 발췌'를 공유하려면 보낼 내용을 적어 주세요.")}
        )
    return agreement


def _check_legal_basis(referral: Referral) -> None:
    basis = referral.legal_basis
    if basis not in LegalBasis.values:
        raise ValidationError({"legal_basis": _("알 수 없는 제공 근거입니다.")})
    if basis != LegalBasis.CONSENT:
        if not referral.justification.strip():
            raise ValidationError(
                {"justification": _("동의 없이 제공하는 근거를 구체적으로 적어 주세요.")}
            )
        return
    # Every referral shares personal data, an escalation to the school's own district office
    # included: on the consent basis both consents must cover the receiver (Act Art. 11③,
    # PIPA Art. 17). Only the agreement is waived inside the education system (DESIGN.md §4).
    missing = missing_consent(referral.case, referral.to_organization)
    if missing:
        lapsed = lapsed_consent(referral.case, referral.to_organization)
        if lapsed is not None:
            raise GuardFailed(
                _(
                    "%(org)s에 정보를 제공하는 근거인 %(subject)s 동의가 만료되었습니다(만료일 "
                    "%(date)s). 새 동의를 기록한 뒤 다시 하세요."
                )
                % {
                    "org": referral.to_organization.name,
                    "subject": ConsentSubject(lapsed.subject).label,
                    "date": lapsed.expires_on.isoformat(),
                }
            )
        raise GuardFailed(
            _(
                "%(org)s에 정보를 보내려면 '%(purpose)s' 목적이 담긴 동의가 필요합니다: "
                "%(missing)s. 사례 화면의 동의 칸에서 기록하세요. 아동보호·긴급 상황이면 그 "
                "제공 근거를 고르고 사유를 적으세요."
            )
            % {
                "org": referral.to_organization.name,
                "purpose": consent_purpose_label(referral.to_organization),
                "missing": ", ".join(missing),
            }
        )
    if referral.consent_id is None:
        covering = consents_covering(referral.case, referral.to_organization)
        referral.consent = covering.get(ConsentSubject.GUARDIAN) or next(iter(covering.values()))
    elif (
        referral.consent not in consents_covering(referral.case, referral.to_organization).values()
    ):
        raise GuardFailed(_("고른 동의는 이 기관에 정보를 제공하는 데 유효하지 않습니다."))


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
) -> Referral:
    """A draft referral. Nothing leaves the sender until `send_referral`."""
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
    _check_fields(referral, at_send=False)
    _check_legal_basis(referral)
    referral.number = _next_number(sender)
    attribute(referral, by, "의뢰 작성")
    referral.save()
    return referral


def packet_retention_days(referral: Referral) -> int:
    """How long a closed referral's packet is kept: the agreement's retention period (agreed in
    advance, Decree 15④⑤); outside any agreement — escalations and referrals between education
    offices — settings.REFERRAL_PACKET_RETENTION_DAYS (default 365, the agreements' default)."""
    if referral.agreement_id:
        return referral.agreement.retention_days
    return settings.REFERRAL_PACKET_RETENTION_DAYS


def _record_destruction(
    referral: Referral, *, by: User | None, rule: str, parts: list[str], detail: str = ""
):
    """One line of the register of destruction (파기 대장, DESIGN.md §6) per referral: which
    referral, which parts, under which rule (`detail`: the lapsed consent); never what they
    held."""
    if rule == DestructionRecord.Rule.CONSENT_WITHDRAWN:
        detail = detail or (f"consent {referral.consent_id}" if referral.consent_id else "")
    elif referral.agreement_id:
        detail = f"agreement {referral.agreement_id}: {referral.agreement.retention_days}d"
    else:
        detail = f"REFERRAL_PACKET_RETENTION_DAYS={packet_retention_days(referral)}"
    record = DestructionRecord(
        object_type="referral",
        object_id=referral.pk,
        object_label=referral.number or "",
        case_id=referral.case_id,
        parts=parts,
        rule=rule,
        rule_detail=detail,
        due_on=None
        if rule == DestructionRecord.Rule.CONSENT_WITHDRAWN
        else referral.packet_expires_on,
        destroyed_at=timezone.now(),
        destroyed_by=by,
    )
    attribute(record, by, "파기 대장 기록")
    record.save()
    return record


def _destroy_packet(referral: Referral) -> list[str]:
    """Empty the packet and the excerpt it was made from; the parts that held something."""
    parts = [
        name
        for name, held in (
            ("packet", referral.packet is not None),
            ("notes_excerpt", bool(referral.notes_excerpt)),
        )
        if held
    ]
    referral.packet = None
    referral.notes_excerpt = ""
    referral.packet_purged_at = timezone.now()
    return parts


def _locked(referral: Referral) -> Referral:
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


def _receivers(referral: Referral) -> list[User]:
    if referral.assignee_id:
        return [referral.assignee]
    return access.receiving_people(referral.to_organization)


def _senders(referral: Referral, *, heads: bool = False) -> list[User]:
    """Who hears for the sending side: whoever drafted the referral, the case's coordinator, a
    sending school's coordinators (and, with `heads`, the sending organisation's principal or
    centre head) — but only those who may view the case today. What comes back (an outcome, a
    message) is case content: someone who lost the case, as the old school does on a transfer
    or a person whose membership ended, hears nothing more of it."""
    people = [referral.created_by, referral.case.coordinator]
    if referral.from_organization_id == referral.case.owner_id:
        people += access.audience(referral.from_organization, "referral_sender")
    if heads:
        people += access.audience(referral.from_organization, "referral_sender_head")
    unique = list({p.pk: p for p in people if p is not None}.values())
    return [p for p in unique if access.has_case_perm(p, access.VIEW_CASE, referral.case)]


def _notify_receivers(referral, *, by, kind, params, body=""):
    notify(
        _receivers(referral), kind=kind, params=params, body=body, url=_url(referral), exclude=by
    )


def _notify_senders(referral, *, by, kind, params, body=""):
    notify(
        _senders(referral),
        kind=kind,
        params=params,
        body=body,
        case=referral.case,
        url=_url(referral),
        exclude=by,
    )


@transaction.atomic
def send_referral(referral: Referral, *, by: User, version: int | None = None) -> Referral:
    """Check the guards again, take the packet, start the clock and open the referral to the
    receiving organisation."""
    referral = _locked(referral)
    _require_sender(by, referral)
    check_version(referral, version)
    if referral.status != R.DRAFT:
        raise GuardFailed(_("작성 중인 의뢰만 보낼 수 있습니다."))
    _check_case_open(referral.case)
    _check_escalation_target(referral)
    referral.agreement = _check_fields(referral, at_send=True)
    _check_legal_basis(referral)
    referral.privacy_review = referral.legal_basis != LegalBasis.CONSENT
    referral.packet = build_packet(referral)
    if referral.respond_by is None or referral.respond_by < deadlines.today():
        referral.respond_by = deadlines.default_respond_by(referral.urgency)
    _move(referral, R.SENT, by=by, reason="")
    access.grant_referral_to_receiver(referral)
    _notify_receivers(
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
    referral = _locked(referral)
    _require_receiver(by, referral)
    if referral.status != R.SENT:
        raise GuardFailed(_("발송된 의뢰만 접수할 수 있습니다."))
    _move(referral, R.RECEIVED, by=by, reason="")
    _notify_senders(
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
    referral = _locked(referral)
    _require_receiver(by, referral, deciding=True)
    check_version(referral, version)
    if referral.status not in (R.SENT, R.RECEIVED):
        raise GuardFailed(_("접수된 의뢰만 수락할 수 있습니다."))
    _check_consent_holds(referral)
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
        _add_participant(referral.case, referral.to_organization, by=by)
    _notify_senders(
        referral,
        by=by,
        kind="referral_accepted",
        params={"org": referral.to_organization.name, "number": referral.number},
        body=referral.decision_reasons,
    )
    return referral


def _add_participant(case: Case, organization: Organization, *, by: User, role=None) -> None:
    role = role or CaseParticipant.Role.SUPPORT
    if CaseParticipant.objects.filter(
        case=case, organization=organization, role=role, until__isnull=True
    ).exists():
        return
    participant = CaseParticipant(case=case, organization=organization, role=role)
    attribute(participant, by, "참여 기관 추가")
    participant.save()


def _take_lead(referral: Referral, *, by: User) -> None:
    """Art. 10⑤: the office decides, and from now on leads the case with the school."""
    from .lifecycle import _apply, _guard, _record_decision

    office = referral.to_organization
    case = Case.objects.select_for_update().get(pk=referral.case_id)
    _record_decision(case, by=by, decision=Decision.Kind.SELECT, reasons=referral.decision_reasons)
    for participant in CaseParticipant.objects.filter(
        case=case, role=CaseParticipant.Role.LEAD, until__isnull=True
    ):
        participant.until = timezone.now()
        attribute(participant, by, "주관 기관 변경")
        participant.save()
    _add_participant(case, office, by=by, role=CaseParticipant.Role.LEAD)
    case.lead = office
    save(case, by, f"주관 기관: {office.name}", bump=True)
    access.grant_case_to_lead_office(case, office)
    if case.status == CaseStatus.IDENTIFIED:
        _apply(case, CaseStatus.REVIEWING, by=by, reason=_("교육지원청 검토"))
    if case.status == CaseStatus.REVIEWING:
        _guard(case, CaseStatus.SELECTED, closure_reason="", reason=referral.decision_reasons)
        _apply(case, CaseStatus.SELECTED, by=by, reason=referral.decision_reasons)


@transaction.atomic
def decline_referral(
    referral: Referral, *, by: User, reason: str, version: int | None = None
) -> Referral:
    referral = _locked(referral)
    _require_receiver(by, referral, deciding=True)
    check_version(referral, version)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("거절 사유를 적어 주세요.")})
    if referral.status not in (R.SENT, R.RECEIVED):
        raise GuardFailed(_("접수된 의뢰만 거절할 수 있습니다."))
    _receive_first(referral, by)
    referral.decline_reason = reason.strip()
    if referral.kind == ReferralKind.ESCALATION:
        from .lifecycle import _record_decision

        referral.decision_reasons = reason.strip()
        _record_decision(
            referral.case, by=by, decision=Decision.Kind.NOT_SELECT, reasons=reason.strip()
        )
    _move(referral, R.DECLINED, by=by, reason=reason.strip())
    _notify_senders(
        referral,
        by=by,
        kind="referral_declined",
        params={"org": referral.to_organization.name, "number": referral.number},
        body=reason.strip(),
    )
    return referral


@transaction.atomic
def start_referral(referral: Referral, *, by: User, version: int | None = None) -> Referral:
    referral = _locked(referral)
    _require_receiver(by, referral)
    check_version(referral, version)
    if referral.status != R.ACCEPTED:
        raise GuardFailed(_("수락한 의뢰만 지원을 시작할 수 있습니다."))
    _check_consent_holds(referral)
    _move(referral, R.IN_PROGRESS, by=by, reason="")
    _notify_senders(
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
    referral = _locked(referral)
    _require_receiver(by, referral)
    check_version(referral, version)
    if not (outcome or "").strip():
        raise ValidationError({"outcome": _("결과를 적어 주세요. 보낸 기관에 전달됩니다.")})
    if referral.status != R.IN_PROGRESS:
        raise GuardFailed(_("지원을 시작한 의뢰만 완료할 수 있습니다."))
    referral.outcome = outcome.strip()
    _move(referral, R.COMPLETED, by=by, reason="")
    _notify_senders(
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
    referral = _locked(referral)
    _require_sender(by, referral)
    check_version(referral, version)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("취소 사유를 적어 주세요.")})
    return _cancel(referral, by=by, reason=reason.strip())


def _cancel(
    referral: Referral, *, by: User, reason: str, revoke: bool = False, detail: str = ""
) -> Referral:
    if referral.status not in OPEN_STATUSES:
        raise GuardFailed(_("이미 끝난 의뢰는 취소할 수 없습니다."))
    was_sent = referral.status != R.DRAFT
    referral.cancel_reason = reason
    destroyed = _destroy_packet(referral) if revoke else []
    _move(referral, R.CANCELLED, by=by, reason=reason)
    if revoke:
        access.revoke_referral_from_receiver(referral)
        if destroyed:
            _record_destruction(
                referral,
                by=by,
                rule=DestructionRecord.Rule.CONSENT_WITHDRAWN,
                parts=destroyed,
                detail=detail,
            )
    if was_sent:
        _notify_receivers(
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
    referral = _locked(referral)
    _require_receiver(by, referral)
    if assignee.pk != by.pk and (not access.may_assign_referral(by, referral)):
        raise PermissionDenied(_("담당자 지정은 기관 책임자만 할 수 있습니다."))
    if not access.may_receive_referrals(assignee, referral.to_organization):
        raise ValidationError({"assignee": _("받는 기관에서 의뢰를 처리하는 사람이 아닙니다.")})
    if referral.status not in OPEN_STATUSES or referral.status == R.DRAFT:
        raise GuardFailed(_("진행 중인 의뢰에만 담당자를 지정할 수 있습니다."))
    referral.assignee = assignee
    save(referral, by, f"담당자: {assignee.name or assignee.username}", bump=True)
    notify(
        [assignee],
        kind="referral_assigned",
        params={"number": referral.number},
        url=_url(referral),
        exclude=by,
    )
    return referral


@transaction.atomic
def post_message(referral: Referral, *, by: User, body: str) -> ReferralMessage:
    """A message in the thread between the two sides."""
    if not (body or "").strip():
        raise ValidationError({"body": _("내용을 적어 주세요.")})
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
    attribute(message, by, "의뢰 메시지")
    message.save()
    params = {"number": referral.number}
    if organization.pk == referral.to_organization_id:
        _notify_senders(referral, by=by, kind="referral_message", params=params, body=body[:200])
    else:
        _notify_receivers(referral, by=by, kind="referral_message", params=params, body=body[:200])
    return message


# --- Transfer ---------------------------------------------------------------------------------


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
        save(referral, by, f"전학 이관: 보낸 기관 {old.code} → {new.code}", bump=True)
        moved.append(referral)
        if referral.status != R.DRAFT:
            _notify_receivers(
                referral,
                by=by,
                kind="referral_sender_changed",
                params={"number": referral.number, "new": new.name},
            )
    return moved


# --- Consent withdrawal ---------------------------------------------------------------------


def cancel_for_withdrawn_consent(case: Case, *, by: User, reason: str) -> list[Referral]:
    """Every open referral whose consent basis no longer holds is cancelled, and its receiver
    loses it at once (packet destroyed); a lead office whose escalation relied on the consent
    stops leading the case (`_end_office_lead`). In the caller's transaction."""
    return _revoke_what_relied_on_consent(case, by=by, reason=reason)[0]


def _revoke_what_relied_on_consent(
    case: Case, *, by: User | None, reason: str = "", day=None, lapsed: bool = False
) -> tuple[list[Referral], bool]:
    """The cascade of a withdrawal (`reason` given by whoever withdrew) or of an expiry
    (`lapsed`, the daily job, judged on `day`). Locks the referrals before the case, in the
    order `accept_referral` takes them. Returns the cancelled referrals and whether a lead
    office stopped leading; a second run finds nothing left to do."""
    # The escalation that made the office lead, locked with the open referrals; checked after
    # them, as cancelling an accepted escalation does not by itself end the lead.
    escalation = (
        Referral.objects.select_for_update()
        .filter(case=case, kind=ReferralKind.ESCALATION, accepted_at__isnull=False)
        .order_by("-accepted_at")
        .first()
    )
    cancelled = []
    for referral in Referral.objects.select_for_update().filter(
        case=case, legal_basis=LegalBasis.CONSENT, status__in=OPEN_STATUSES
    ):
        if not missing_consent(case, referral.to_organization, day):
            if referral.consent is None or referral.consent.is_valid(day):
                continue
            # Another valid consent still covers it: rely on that one from now on.
            referral.consent = consents_covering(case, referral.to_organization, day).get(
                referral.consent.subject
            )
            save(referral, by, "근거 동의 변경", bump=True)
            continue
        detail = ""
        if lapsed:
            expired = lapsed_consent(case, referral.to_organization, day)
            text = _("동의 만료로 취소: 만료일 %(date)s") % {
                "date": expired.expires_on.isoformat() if expired else "-"
            }
            detail = f"consent {expired.pk} expired {expired.expires_on}" if expired else ""
        else:
            text = _("동의 철회로 취소: %(reason)s") % {"reason": reason}
        cancelled.append(_cancel(referral, by=by, reason=str(text), revoke=True, detail=detail))
        if lapsed:
            # Nobody acted: the sending side hears of it too.
            _notify_senders(
                referral,
                by=by,
                kind="referral_cancelled",
                params={"number": referral.number},
                body=str(text),
            )
    ended = escalation is not None and _end_office_lead(
        case, escalation, by=by, day=day, lapsed=lapsed
    )
    return cancelled, ended


def _end_office_lead(
    case: Case, escalation: Referral, *, by: User | None, day=None, lapsed: bool = False
) -> bool:
    """An office leads a case by the escalation it accepted (`_take_lead`). When that
    escalation's consent basis no longer holds — withdrawn or expired, and no other valid
    consent covers the office — the office stops leading at once, whatever state the escalation
    is in: its lead participation ends, the owner school leads again, the office's people leave
    the team and lose every grant on the case, and they are told. An escalation on another legal
    basis (child protection, emergency) is left as it is. True if the lead changed."""
    office = escalation.to_organization
    if escalation.legal_basis != LegalBasis.CONSENT or not missing_consent(case, office, day):
        return False
    case = Case.objects.select_for_update().select_related("owner").get(pk=case.pk)
    if case.lead_id != office.pk or case.owner_id == office.pk:
        return False  # not (or no longer) the office's to lead
    school = case.owner
    cause = "동의 만료" if lapsed else "동의 철회"
    text = f"{cause}로 주관 기관 해제: {office.name} → {school.name}"
    now = timezone.now()
    for participant in CaseParticipant.objects.select_for_update().filter(
        case=case, organization=office, role=CaseParticipant.Role.LEAD, until__isnull=True
    ):
        participant.until = now
        attribute(participant, by, text)
        participant.save()
    _add_participant(case, school, by=by, role=CaseParticipant.Role.LEAD)
    case.lead = school
    save(case, by, text, bump=True)
    for member in CaseMember.objects.filter(case=case, removed_at__isnull=True).select_related(
        "user"
    ):
        if access.is_member_of(member.user, office.pk) and not access.is_member_of(
            member.user, school.pk
        ):
            member.removed_at = now
            attribute(member, by, text)
            member.save()
    access.revoke_case_from_lead_office(case, office)
    notify(
        access.audience(office, "lead_office_revoked"),
        kind="lead_office_revoked",
        params={
            "number": case.number,
            "school": school.name,
            "variant": "expired" if lapsed else "withdrawn",
        },
        exclude=by,
    )
    return True


def lapse_expired_consents(day=None, *, by: User | None = None) -> int:
    """Daily (Celery beat): a consent whose last valid day (`expires_on`) has passed is as good
    as withdrawn for what relied on it. The same cascade as a withdrawal runs for every case
    with such a consent: open referrals on the consent basis are cancelled and their receivers
    lose them, a lead office's escalation that relied on it ends the office's lead. History
    names `by` (None: the system) and says why. Idempotent: a second run, or a run racing a
    withdrawal, finds nothing left to do. Returns the number of cases changed."""
    day = day or deadlines.today()
    expired = Consent.objects.filter(
        case=OuterRef("pk"), withdrawn_on__isnull=True, expires_on__lt=day
    )
    relying = Referral.objects.filter(
        case=OuterRef("pk"), legal_basis=LegalBasis.CONSENT, status__in=OPEN_STATUSES
    )
    leading = Referral.objects.filter(
        case=OuterRef("pk"),
        kind=ReferralKind.ESCALATION,
        legal_basis=LegalBasis.CONSENT,
        accepted_at__isnull=False,
        to_organization=OuterRef("lead"),
    )
    candidates = (
        Case.objects.filter(Exists(expired))
        .filter(Exists(relying) | (~Q(lead=F("owner")) & Exists(leading)))
        .values_list("pk", flat=True)
    )
    changed = 0
    for pk in list(candidates):
        with transaction.atomic():
            # Lock what a withdrawal locks, in the same order: the consents, then the referrals
            # and the case (in the cascade).
            list(
                Consent.objects.select_for_update().filter(
                    case_id=pk, withdrawn_on__isnull=True, expires_on__lt=day
                )
            )
            case = Case.objects.get(pk=pk)
            cancelled, ended = _revoke_what_relied_on_consent(case, by=by, day=day, lapsed=True)
        if cancelled or ended:
            changed += 1
    return changed


# --- Deadlines, reminders, retention (run by Celery beat) -----------------------------------


def overdue_referrals(day=None):
    day = day or deadlines.today()
    return Referral.objects.filter(
        status__in=(R.SENT, R.RECEIVED), respond_by__lt=day
    ).select_related("case", "to_organization", "from_organization", "assignee", "created_by")


def send_reminders(day=None, *, by: User | None = None) -> int:
    """Once a day per overdue referral: remind the receiver; after
    REFERRAL_ESCALATE_REMINDER_AFTER business days also the sender and the sender's head."""
    day = day or deadlines.today()
    if not deadlines.is_business_day(day):
        return 0
    count = 0
    for referral in overdue_referrals(day).exclude(reminded_on=day):
        with transaction.atomic():
            referral = _locked(referral)
            if referral.reminded_on == day or not referral.is_overdue(day):
                continue
            late = deadlines.business_days_between(referral.respond_by, day)
            params = {"days": late, "number": referral.number}
            _notify_receivers(referral, by=by, kind="referral_overdue", params=params)
            if late >= settings.REFERRAL_ESCALATE_REMINDER_AFTER:
                notify(
                    _senders(referral, heads=True),
                    kind="referral_overdue_sender",
                    params={**params, "org": referral.to_organization.name},
                    case=referral.case,
                    url=_url(referral),
                    exclude=by,
                )
            referral.reminded_on = day
            referral.reminders_sent += 1
            attribute(referral, by, "회신 독촉")
            referral.save(update_fields=["reminded_on", "reminders_sent", "updated_at"])
            count += 1
    return count


def purge_expired_packets(day=None, *, by: User | None = None) -> int:
    """A closed referral's packet is kept for its retention period (`packet_retention_days`),
    then destroyed; each destruction is a line of the register (DestructionRecord), written in
    the same transaction as the destruction, so neither exists without the other."""
    day = day or deadlines.today()
    count = 0
    expired = Referral.objects.filter(
        packet_expires_on__lt=day, packet__isnull=False, status__in=CLOSED_STATUSES
    ).values_list("pk", flat=True)
    for pk in list(expired):
        with transaction.atomic():
            referral = (
                Referral.objects.select_for_update().filter(pk=pk, packet__isnull=False).first()
            )
            if referral is None:  # purged meanwhile by another run
                continue
            parts = _destroy_packet(referral)
            attribute(referral, by, "보관 기간 경과로 공유 정보 파기")
            referral.save()
            rule = (
                DestructionRecord.Rule.AGREEMENT_RETENTION
                if referral.agreement_id
                else DestructionRecord.Rule.DEFAULT_RETENTION
            )
            _record_destruction(referral, by=by, rule=rule, parts=parts)
            count += 1
    return count
