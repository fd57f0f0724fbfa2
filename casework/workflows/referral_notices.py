"""Who hears of a referral and where the link points: the receiving side (its assignee, else its
receiving people) and the sending side (only those who may still view the case). Every referral
workflow, the reminders and the consent cascade notify through these.
"""

from casework import access
from casework.models import Referral
from casework.notify import notify
from partners.models import User


def referral_url(referral: Referral) -> str:
    return f"/casework/referrals/{referral.pk}/"


def receiver_audience(referral: Referral) -> list[User]:
    """Who hears for the receiving side: the assignee once named, else its receiving people."""
    if referral.assignee_id:
        return [referral.assignee]
    return access.receiving_people(referral.to_organization)


def sender_audience(referral: Referral, *, heads: bool = False) -> list[User]:
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


def notify_receivers(referral: Referral, *, by: User | None, kind: str, params: dict, body=""):
    notify(
        receiver_audience(referral),
        kind=kind,
        params=params,
        body=body,
        url=referral_url(referral),
        exclude=by,
    )


def notify_senders(referral: Referral, *, by: User | None, kind: str, params: dict, body=""):
    notify(
        sender_audience(referral),
        kind=kind,
        params=params,
        body=body,
        case=referral.case,
        url=referral_url(referral),
        exclude=by,
    )
