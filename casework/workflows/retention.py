"""Retention of what a referral shared (DESIGN.md §6): how long a closed referral's packet is
kept, its destruction, and the register of destruction (파기 대장) that records each one.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from casework import deadlines
from casework.models import DestructionRecord, Referral
from casework.models.referrals import CLOSED_STATUSES
from partners.models import User

from .common import attribute


def packet_retention_days(referral: Referral) -> int:
    """How long a closed referral's packet is kept: the agreement's retention period (agreed in
    advance, Decree 15④⑤); outside any agreement — escalations and referrals between education
    offices — settings.REFERRAL_PACKET_RETENTION_DAYS (default 365, the agreements' default)."""
    if referral.agreement_id:
        return referral.agreement.retention_days
    return settings.REFERRAL_PACKET_RETENTION_DAYS


def record_destruction(
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
    attribute(record, by, gettext_noop("파기 대장 기록"))
    record.save()
    return record


def destroy_packet(referral: Referral) -> list[str]:
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
            parts = destroy_packet(referral)
            attribute(referral, by, gettext_noop("보관 기간 경과로 공유 정보 파기"))
            referral.save()
            rule = (
                DestructionRecord.Rule.AGREEMENT_RETENTION
                if referral.agreement_id
                else DestructionRecord.Rule.DEFAULT_RETENTION
            )
            record_destruction(referral, by=by, rule=rule, parts=parts)
            count += 1
    return count
