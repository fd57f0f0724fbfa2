"""What exactly stands between a case's recorded consents and sending its data to a receiver
(DESIGN.md §4), told subject by subject so that the sender knows which consent to record: none
recorded, one without the purpose the receiver needs, one naming other recipients, one expired,
one withdrawn. `sharing.missing_consent` says whose consent is missing; this says why."""

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from casework import deadlines
from casework.choices import ConsentSubject
from casework.models import Case, Consent
from partners.models import Organization

from .sharing import consent_purpose, consent_purpose_label, consents_covering


def _texts(subject: str) -> dict[str, str]:
    if subject == ConsentSubject.STUDENT:
        return {
            "none": _("학생 동의가 없습니다."),
            "purpose": _("학생 동의에 '%(purpose)s' 목적이 없습니다."),
            "recipient": _("학생 동의의 제공받는 기관에 %(org)s이(가) 없습니다."),
            "expired": _("학생 동의가 만료되었습니다(만료일 %(date)s)."),
            "withdrawn": _("학생 동의가 철회되었습니다."),
        }
    return {
        "none": _("보호자 동의가 없습니다."),
        "purpose": _("보호자 동의에 '%(purpose)s' 목적이 없습니다."),
        "recipient": _("보호자 동의의 제공받는 기관에 %(org)s이(가) 없습니다."),
        "expired": _("보호자 동의가 만료되었습니다(만료일 %(date)s)."),
        "withdrawn": _("보호자 동의가 철회되었습니다."),
    }


def _gap(subject: str, consents: list[Consent], receiver: Organization, day) -> str:
    texts = _texts(subject)
    purpose = consent_purpose(receiver)
    valid = [c for c in consents if c.is_valid(day)]
    if valid:
        # A valid consent with the purpose that still does not cover the receiver names
        # other recipients (`sharing.consents_covering`).
        if any(purpose in (c.purposes or []) for c in valid):
            return texts["recipient"] % {"org": receiver.name}
        return texts["purpose"] % {"purpose": consent_purpose_label(receiver)}
    expired = [c for c in consents if c.withdrawn_on is None and c.expires_on is not None]
    expired = [c for c in expired if c.expires_on < day]
    if expired:
        last = max(expired, key=lambda c: c.expires_on)
        return texts["expired"] % {"date": date_format(last.expires_on, "DATE_FORMAT")}
    if any(c.withdrawn_on is not None for c in consents):
        return texts["withdrawn"]
    return texts["none"]


def consent_gaps(case: Case, receiver: Organization, day=None) -> list[dict]:
    """For each subject whose consent does not cover sharing with `receiver` on `day`: its
    `subject` code and a `text` saying exactly what is missing. Empty when both cover it."""
    day = day or deadlines.today()
    covering = consents_covering(case, receiver, day)
    recorded = list(case.consents.order_by("-given_on"))
    gaps = []
    for subject in (ConsentSubject.STUDENT, ConsentSubject.GUARDIAN):
        if subject in covering:
            continue
        mine = [c for c in recorded if c.subject == subject]
        gaps.append({"subject": str(subject), "text": _gap(subject, mine, receiver, day)})
    return gaps
