"""Consent withdrawn or lapsed (DESIGN.md §4): a withdrawal takes effect at once, and a consent
past its last valid day counts for nothing. Either way every open referral that relied on it is
cancelled and its receiver loses it (packet destroyed), and a lead office whose escalation relied
on it stops leading the case.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access, deadlines
from casework.choices import LegalBasis
from casework.models import (
    Case,
    CaseMember,
    CaseParticipant,
    Consent,
    Referral,
    ReferralKind,
    ReferralStatus,
)
from casework.models.referrals import OPEN_STATUSES
from casework.notify import notify
from casework.reasons import patterned
from partners.models import User

from .common import attribute, require_case_perm, save
from .errors import GuardFailed
from .referral_notices import notify_senders
from .referrals import add_participant, cancel_and_revoke_referral
from .sharing import consents_covering, lapsed_consent, missing_consent


@transaction.atomic
def withdraw_consent(consent: Consent, *, by: User, reason: str) -> Consent:
    """A withdrawal takes effect at once: every open referral that relied on the consent is
    cancelled and its receiver loses access, and a lead office whose escalation relied on it
    stops leading the case, in this same transaction (DESIGN.md §4)."""
    require_case_perm(by, access.MANAGE_CASE, consent.case)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("철회 사유를 적어 주세요.")})
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_on is not None:
        raise GuardFailed(_("이미 철회된 동의입니다."))
    consent.withdrawn_on = timezone.localdate()
    consent.withdrawal_reason = reason.strip()
    attribute(consent, by, gettext_noop("동의 철회"))
    consent.save()
    cancel_for_withdrawn_consent(consent.case, by=by, reason=reason.strip())
    return consent


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
    # A draft shares nothing: it stays, and sending checks the consent again.
    for referral in (
        Referral.objects.select_for_update()
        .filter(case=case, legal_basis=LegalBasis.CONSENT, status__in=OPEN_STATUSES)
        .exclude(status=ReferralStatus.DRAFT)
    ):
        if not missing_consent(case, referral.to_organization, day):
            if referral.consent is None or referral.consent.is_valid(day):
                continue
            # Another valid consent still covers it: rely on that one from now on.
            referral.consent = consents_covering(case, referral.to_organization, day).get(
                referral.consent.subject
            )
            save(referral, by, gettext_noop("근거 동의 변경"), bump=True)
            continue
        detail = ""
        if lapsed:
            expired = lapsed_consent(case, referral.to_organization, day)
            text = patterned(
                "consent_lapsed", date=expired.expires_on.isoformat() if expired else "-"
            )
            detail = f"consent {expired.pk} expired {expired.expires_on}" if expired else ""
        else:
            text = patterned("consent_withdrawn", reason=reason)
        cancelled.append(cancel_and_revoke_referral(referral, by=by, reason=text, detail=detail))
        if lapsed:
            # Nobody acted: the sending side hears of it too.
            notify_senders(
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
    """An office leads a case by the escalation it accepted (`accept_referral`). When that
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
    text = patterned(
        "lead_lapsed" if lapsed else "lead_withdrawn", office=office.name, school=school.name
    )
    now = timezone.now()
    for participant in CaseParticipant.objects.select_for_update().filter(
        case=case, organization=office, role=CaseParticipant.Role.LEAD, until__isnull=True
    ):
        participant.until = now
        attribute(participant, by, text)
        participant.save()
    add_participant(case, school, by=by, role=CaseParticipant.Role.LEAD)
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
