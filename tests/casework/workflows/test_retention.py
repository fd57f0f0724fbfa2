"""Referral packets expire and are destroyed (DESIGN.md §4): at the end of the agreement's
retention or the default one, or on a consent withdrawal, each recorded in the append-only
destruction register."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from casework.models import DestructionRecord
from casework.workflows import consents, retention
from casework.workflows import referrals as wf
from tests.builders import escalation, office_consents, service_referral

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


# --- Packets and the destruction register -----------------------------------------------------


def test_closed_referral_packets_expire_with_the_agreement(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    wf.decline_referral(referral, by=net["partner"], reason="정원 초과")
    referral.refresh_from_db()
    expiry = referral.packet_expires_on
    assert expiry == TODAY() + timedelta(days=net.agreement.retention_days)
    assert retention.purge_expired_packets(expiry) == 0
    assert not DestructionRecord.objects.exists()
    assert retention.purge_expired_packets(expiry + timedelta(days=1)) == 1
    referral.refresh_from_db()
    assert referral.packet is None and referral.packet_purged_at
    assert referral.history.first().history_change_reason.startswith("보관 기간")
    record = DestructionRecord.objects.get()
    assert (record.object_type, record.object_id, record.object_label) == (
        "referral",
        referral.pk,
        referral.number,
    )
    assert record.rule == "agreement_retention" and record.due_on == expiry
    assert record.parts == ["packet"] and record.case == consented
    assert str(net.agreement.pk) in record.rule_detail and record.destroyed_by is None
    assert "김하늘" not in str(record.__dict__)  # the register names, it never copies
    assert retention.purge_expired_packets(expiry + timedelta(days=2)) == 0  # once
    assert DestructionRecord.objects.count() == 1


def test_packets_outside_an_agreement_expire_after_the_default_retention(net, case, settings):
    settings.REFERRAL_PACKET_RETENTION_DAYS = 30
    office_consents(net, case)
    referral = wf.send_referral(escalation(net, case), by=net["coordinator"])
    referral = wf.decline_referral(referral, by=net["centrehead"], reason="학교 지원 권고")
    assert referral.agreement is None
    assert referral.packet_expires_on == TODAY() + timedelta(days=30)
    assert retention.purge_expired_packets(TODAY() + timedelta(days=31), by=net["privacy"]) == 1
    record = DestructionRecord.objects.get(object_id=referral.pk)
    assert record.rule == "default_retention" and record.destroyed_by == net["privacy"]
    assert record.rule_detail == "REFERRAL_PACKET_RETENTION_DAYS=30"
    assert record.history.get().history_user == net["privacy"]


def test_withdrawal_destroys_the_packet_and_records_it(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    consents.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="보호자 요청")
    record = DestructionRecord.objects.get(object_id=referral.pk)
    assert record.rule == "consent_withdrawn" and record.destroyed_by == net["coordinator"]
    assert record.due_on is None and record.parts == ["packet"]


def test_destruction_register_is_append_only(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    consents.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="보호자 요청")
    record = DestructionRecord.objects.get(object_id=referral.pk)
    record.rule_detail = "고침"
    with pytest.raises(ValidationError):
        record.save()
