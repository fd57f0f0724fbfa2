"""Consent withdrawal and expiry revoke every access that relied on the consent (DESIGN.md §4):
the receivers' referrals, and the lead office an accepted escalation made of the district."""

import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from casework import access, tasks
from casework.models import (
    Case,
    CaseMember,
    CaseParticipant,
    DestructionRecord,
    Notification,
    Referral,
)
from casework.notify import delivery
from casework.workflows import consents, records, sharing, team
from casework.workflows import referrals as wf
from casework.workflows.errors import GuardFailed

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate
ALL_PURPOSES = ("support", "share_with_office", "share_with_partners")
FIELDS = ["student_name", "grade", "reason"]  # what the service referrals here share


def consent(world, case, subject, **extra):
    if subject == "guardian":
        extra = {"guardian_name": "김보호", "relation": "모", **extra}
    return records.record_consent(
        case,
        by=world["coordinator"],
        subject=subject,
        purposes=list(ALL_PURPOSES),
        method="written",
        given_on=TODAY() - timedelta(days=30),
        **extra,
    )


def both_consents(world, case, **extra):
    """The student's and the guardian's consent; returns the guardian's."""
    consent(world, case, "student", **extra)
    return consent(world, case, "guardian", **extra)


def escalate(world, case, **kw):
    referral = wf.create_referral(
        case,
        by=world["coordinator"],
        kind="escalation",
        to_organization=world.nambu,
        reason="학교 차원의 지원으로 부족",
        **kw,
    )
    return wf.send_referral(referral, by=world["coordinator"])


def accepted_escalation(world, case, **kw):
    referral = escalate(world, case, **kw)
    referral = wf.accept_referral(referral, by=world["centrehead"], reasons="위기 수준 높음")
    team.add_team_member(
        case, by=world["casemanager"], user=world["casemanager"], role="case_manager"
    )
    return referral


def service_referral(world, case):
    referral = wf.create_referral(
        case,
        by=world["coordinator"],
        kind="service",
        to_organization=world.partner_org,
        service=world.service,
        reason="또래 관계 어려움으로 상담 필요",
        shared_fields=FIELDS,
    )
    return wf.send_referral(referral, by=world["coordinator"])


def sees_case(world, username, case) -> bool:
    return access.visible_cases(world[username]).filter(pk=case.pk).exists()


def lapse(consent_row, on):
    """The consent's last valid day is `on` (as if that day had come and gone)."""
    consent_row.expires_on = on
    consent_row._change_reason = "만료일 변경"
    consent_row.save()


def assert_school_leads_again(world, case):
    case.refresh_from_db()
    assert case.lead == world.school
    office_lead = CaseParticipant.objects.get(
        case=case, organization=world.nambu, role=CaseParticipant.Role.LEAD
    )
    assert office_lead.until is not None
    current = CaseParticipant.objects.filter(case=case, role="lead", until__isnull=True)
    assert [p.organization for p in current] == [world.school]
    for username in ("casemanager", "centrehead"):
        assert not sees_case(world, username, case), username
    assert not CaseMember.objects.filter(
        case=case, user=world["casemanager"], removed_at__isnull=True
    ).exists()
    # The school keeps its case.
    assert sees_case(world, "coordinator", case)
    assert access.has_case_perm(world["coordinator"], access.MANAGE_CASE, case)


# --- Withdrawal --------------------------------------------------------------------------------


def test_withdrawal_ends_the_lead_office_of_an_accepted_escalation(net, case):
    guardian = both_consents(net, case)
    referral = accepted_escalation(net, case)
    assert sees_case(net, "casemanager", case) and sees_case(net, "centrehead", case)

    consents.withdraw_consent(guardian, by=net["coordinator"], reason="보호자 요청")

    referral.refresh_from_db()
    assert referral.status == "cancelled" and referral.packet is None
    assert_school_leads_again(net, case)
    assert sharing.sending_organization(net["casemanager"], case) is None
    history = Case.history.filter(id=case.pk).order_by("-history_date").first()
    assert "동의 철회" in history.history_change_reason
    assert history.history_user == net["coordinator"]
    for username in ("casemanager", "centrehead"):
        note = Notification.objects.get(recipient=net[username], kind="lead_office_revoked")
        assert case.number in note.title and "철회" in note.title
        assert net.school.name in note.body


def test_withdrawal_ends_the_lead_after_the_escalation_completed(net, case):
    guardian = both_consents(net, case)
    referral = accepted_escalation(net, case)
    wf.start_referral(referral, by=net["casemanager"])
    wf.complete_referral(referral, by=net["casemanager"], outcome="통합 지원 계획 수립")

    consents.withdraw_consent(guardian, by=net["coordinator"], reason="보호자 요청")

    referral.refresh_from_db()
    assert referral.status == "completed"  # a closed referral stays as it ended
    assert_school_leads_again(net, case)


def test_another_valid_consent_keeps_the_office_lead(net, case):
    guardian = both_consents(net, case)
    accepted_escalation(net, case)
    consent(net, case, "guardian")
    consents.withdraw_consent(guardian, by=net["coordinator"], reason="보호자 요청")
    case.refresh_from_db()
    assert case.lead == net.nambu and sees_case(net, "casemanager", case)
    assert not Notification.objects.filter(kind="lead_office_revoked").exists()


def test_escalation_without_consent_basis_keeps_the_lead_on_withdrawal(net, case):
    guardian = both_consents(net, case)
    accepted_escalation(net, case, legal_basis="child_protection", justification="학대 의심 신고")
    consents.withdraw_consent(guardian, by=net["coordinator"], reason="보호자 요청")
    case.refresh_from_db()
    assert case.lead == net.nambu and sees_case(net, "casemanager", case)
    assert not Notification.objects.filter(kind="lead_office_revoked").exists()


# --- Expiry: refused at use ---------------------------------------------------------------------


def test_an_expired_consent_cannot_be_sent_on(net, case):
    guardian = both_consents(net, case, expires_on=TODAY())
    draft = wf.create_referral(
        case,
        by=net["coordinator"],
        kind="escalation",
        to_organization=net.nambu,
        reason="학교 차원의 지원으로 부족",
    )
    lapse(guardian, TODAY() - timedelta(days=1))
    with pytest.raises(GuardFailed, match="동의가 만료"):
        wf.send_referral(draft, by=net["coordinator"])
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.packet is None


def test_a_consent_valid_through_today_still_counts(net, case):
    both_consents(net, case, expires_on=TODAY())
    referral = escalate(net, case)
    referral = wf.accept_referral(referral, by=net["centrehead"], reasons="r")
    assert referral.status == "accepted"


def test_an_expired_consent_cannot_be_accepted_or_started_on(net, case):
    guardian = both_consents(net, case, expires_on=TODAY())
    escalation = escalate(net, case)
    referral = service_referral(net, case)
    lapse(guardian, TODAY() - timedelta(days=1))
    with pytest.raises(GuardFailed, match="동의가 만료"):
        wf.accept_referral(escalation, by=net["centrehead"], reasons="위기 수준 높음")
    case.refresh_from_db()
    assert case.lead == net.school and not sees_case(net, "casemanager", case)
    with pytest.raises(GuardFailed, match="동의가 만료"):
        wf.accept_referral(referral, by=net["partner"])
    # Accepted the day before it lapsed: the support does not start on it either.
    lapse(guardian, TODAY())
    wf.accept_referral(referral, by=net["partner"])
    lapse(guardian, TODAY() - timedelta(days=1))
    with pytest.raises(GuardFailed, match="동의가 만료"):
        wf.start_referral(referral, by=net["partner"])


# --- Expiry: the daily job ----------------------------------------------------------------------


def test_daily_job_cancels_what_relied_on_an_expired_consent(net, case):
    both_consents(net, case, expires_on=TODAY())
    escalation = accepted_escalation(net, case)
    referral = service_referral(net, case)
    wf.accept_referral(referral, by=net["partner"])
    assert access.visible_referrals(net["partner"]).filter(pk=referral.pk).exists()

    # Valid through its last day: nothing happens yet.
    assert consents.lapse_expired_consents(TODAY()) == 0
    referral.refresh_from_db()
    assert referral.status == "accepted"

    assert consents.lapse_expired_consents(TODAY() + timedelta(days=1)) == 1
    for row in (escalation, referral):
        row.refresh_from_db()
        assert row.status == "cancelled" and "동의 만료" in row.cancel_reason
        assert row.packet is None
    assert not access.visible_referrals(net["partner"]).filter(pk=referral.pk).exists()
    record = DestructionRecord.objects.get(object_id=referral.pk)
    assert record.rule == "consent_withdrawn" and "expired" in record.rule_detail
    assert record.destroyed_by is None
    assert_school_leads_again(net, case)
    history = Case.history.filter(id=case.pk).order_by("-history_date").first()
    assert "동의 만료" in history.history_change_reason and history.history_user is None
    for username in ("casemanager", "centrehead"):
        note = Notification.objects.get(recipient=net[username], kind="lead_office_revoked")
        assert "만료" in note.title
    assert Notification.objects.filter(recipient=net["partner"], kind="referral_cancelled")
    # With no one acting, the school hears of what was cancelled.
    assert (
        Notification.objects.filter(recipient=net["coordinator"], kind="referral_cancelled").count()
        == 2
    )

    # Idempotent: a second run (or a retry) changes and tells nothing more.
    notes = Notification.objects.count()
    rows = Referral.history.count() + Case.history.count() + CaseParticipant.history.count()
    assert consents.lapse_expired_consents(TODAY() + timedelta(days=1)) == 0
    assert consents.lapse_expired_consents(TODAY() + timedelta(days=2)) == 0
    assert Notification.objects.count() == notes
    assert rows == (
        Referral.history.count() + Case.history.count() + CaseParticipant.history.count()
    )


def test_daily_job_after_a_withdrawal_does_nothing_more(net, case):
    guardian = both_consents(net, case, expires_on=TODAY())
    accepted_escalation(net, case)
    consents.withdraw_consent(guardian, by=net["coordinator"], reason="보호자 요청")
    notes = Notification.objects.count()
    assert consents.lapse_expired_consents(TODAY() + timedelta(days=1)) == 0
    assert Notification.objects.count() == notes


def test_daily_job_leaves_an_escalation_on_another_basis(net, case):
    both_consents(net, case, expires_on=TODAY())
    accepted_escalation(net, case, legal_basis="emergency", justification="자해 위험")
    assert consents.lapse_expired_consents(TODAY() + timedelta(days=1)) == 0
    case.refresh_from_db()
    assert case.lead == net.nambu and sees_case(net, "casemanager", case)


def test_the_beat_task_calls_the_workflow(settings):
    with mock.patch("casework.workflows.consents.lapse_expired_consents", return_value=4) as job:
        assert tasks.lapse_expired_consents.apply().get() == 4
    job.assert_called_once_with()
    entries = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "casework.tasks.lapse_expired_consents" in entries


@pytest.mark.django_db(transaction=True)
def test_the_daily_job_racing_a_withdrawal_changes_nothing_twice(net, case):
    """The job starts while a withdrawal holds the consent, the referrals and the case; it waits
    for the locks, then finds nothing left to do."""
    guardian = both_consents(net, case, expires_on=TODAY())
    escalation = accepted_escalation(net, case)
    job = {}
    real_revoke = access.revoke_case_from_lead_office

    def revoke_while_the_job_runs(*args, **kwargs):
        def run():
            try:
                job["changed"] = consents.lapse_expired_consents(TODAY() + timedelta(days=1))
            finally:
                connection.close()

        job["thread"] = threading.Thread(target=run)
        job["thread"].start()
        time.sleep(1)  # let it reach the locks
        return real_revoke(*args, **kwargs)

    with (
        mock.patch.object(delivery, "schedule"),
        mock.patch.object(access, "revoke_case_from_lead_office", revoke_while_the_job_runs),
    ):
        consents.withdraw_consent(guardian, by=net["coordinator"], reason="보호자 요청")
        job["thread"].join(timeout=30)
    assert job["changed"] == 0
    assert_school_leads_again(net, case)
    cancellations = Referral.history.filter(id=escalation.pk, status="cancelled")
    assert cancellations.count() == 1
    assert Notification.objects.filter(kind="lead_office_revoked").count() == 2
    # The school's first lead, the office's, the school's again: one of each, one current.
    assert CaseParticipant.objects.filter(case=case, role="lead").count() == 3
