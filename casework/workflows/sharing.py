"""What a referral may share, with whom and on what basis (DESIGN.md §4): the receiving office
of an escalation, the agreement that covers a partner, the fields it allows, the consents that
cover a receiver and what is missing or lapsed. The referral workflows refuse with these checks;
the referral form reads the same answers.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from casework import access, deadlines
from casework.choices import ConsentPurpose, ConsentSubject, LegalBasis
from casework.models import Case, Consent, Referral
from partners.catalogue import field_codes, packet_fields
from partners.models import Agreement, Organization, User

from .errors import GuardFailed

# The fields ticked by default: none of them sensitive (the field catalogue marks those).
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


def consent_purpose(receiver: Organization) -> str:
    """The consent purpose sharing with `receiver` needs: the office's or the partners'."""
    return (
        ConsentPurpose.SHARE_WITH_OFFICE
        if receiver.is_education_office
        else ConsentPurpose.SHARE_WITH_PARTNERS
    )


def consent_purpose_label(receiver: Organization) -> str:
    return str(ConsentPurpose(consent_purpose(receiver)).label)


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
    purpose = consent_purpose(receiver)
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
    purpose = consent_purpose(receiver)
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


def sending_organization(user: User, case: Case) -> Organization | None:
    """Where the user sends from for this case (access decides)."""
    return access.sending_organization(user, case)


def check_consent_holds(referral: Referral) -> None:
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


def check_shared_fields(referral: Referral, *, at_send: bool) -> Agreement | None:
    """The fields a referral shares: known, at least one, all allowed to the receiver (outside
    the education system, by an agreement), and at send an excerpt to go with `notes_excerpt`.
    Returns the agreement that covers them; ValidationError or GuardFailed otherwise."""
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


def check_legal_basis(referral: Referral) -> None:
    """The basis the data goes on: a justification without consent, else both consents covering
    the receiver (the referral relies on the guardian's unless it names one)."""
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
