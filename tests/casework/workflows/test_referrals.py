"""Referrals and escalations (DESIGN.md §4): drafting, sending and receiving, every transition
and guard, and what a consent withdrawal cancels."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from casework import access, deadlines
from casework.models import CaseStatus, Decision, Notification, ReferralMessage
from casework.workflows import consents, lifecycle, sharing
from casework.workflows import referrals as wf
from casework.workflows.errors import GuardFailed, StaleVersion
from tests.builders import NON_SENSITIVE, consent, escalation, office_consents, service_referral
from tests.factories import MembershipFactory, ReferralFactory, ServiceFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


# --- Drafting and sending ----------------------------------------------------------------------


def test_service_referral_full_loop(net, consented):
    referral = service_referral(net, consented)
    assert referral.status == "draft" and referral.number == f"R{TODAY().year}-S0001-0001"
    assert service_referral(net, consented).number == f"R{TODAY().year}-S0001-0002"
    assert not access.visible_referrals(net["partner"]).exists()  # a draft stays home
    referral = wf.send_referral(referral, by=net["coordinator"])
    assert referral.status == "sent" and referral.sent_at and referral.packet
    assert referral.respond_by == deadlines.add_business_days(TODAY(), 5)
    assert referral.consent == net.guardian_consent and referral.agreement == net.agreement
    assert list(access.received_referrals(net["partner"])) == [referral]
    assert Notification.objects.filter(recipient=net["partner"], kind="referral_received").exists()
    # Reading changes nothing; opening is an action.
    referral.refresh_from_db()
    assert referral.status == "sent"
    referral = wf.open_referral(referral, by=net["partner"])
    referral = wf.accept_referral(referral, by=net["partner"])
    assert referral.assignee == net["partner"]
    referral = wf.start_referral(referral, by=net["partner"])
    with pytest.raises(ValidationError):
        wf.complete_referral(referral, by=net["partner"], outcome="  ")
    referral = wf.complete_referral(referral, by=net["partner"], outcome="8회 상담, 관계 개선")
    assert referral.status == "completed" and referral.closed_at
    assert referral.packet_expires_on == TODAY() + timedelta(days=net.agreement.retention_days)
    outcome_note = Notification.objects.get(recipient=net["coordinator"], kind="referral_completed")
    assert "관계 개선" in outcome_note.body
    # The receiver never sees the case.
    assert not access.visible_cases(net["partner"]).exists()
    statuses = [h.status for h in referral.history.order_by("history_date")]
    assert statuses == ["draft", "sent", "received", "accepted", "in_progress", "completed"]
    assert referral.history.first().history_user == net["partner"]


def test_packet_holds_exactly_the_shared_fields(net, consented):
    referral = service_referral(net, consented)
    referral = wf.send_referral(referral, by=net["coordinator"])
    fields = referral.packet["fields"]
    assert list(fields) == ["student_name", "grade", "guardian_contact", "reason"]
    assert fields["student_name"] == "김하늘"
    assert fields["guardian_contact"] == [
        {"name": "김보호", "relation": "모", "phone": "010-1234-5678"}
    ]
    assert "birth_year" not in fields and "benefit_status" not in fields
    # An immutable snapshot: later changes to the case or student do not reach it.
    consented.student.name = "김바뀜"
    consented.student.save()
    referral.refresh_from_db()
    assert referral.packet["fields"]["student_name"] == "김하늘"


def test_agreement_limits_the_fields(net, consented):
    with pytest.raises(GuardFailed, match="협약"):
        service_referral(net, consented, shared_fields=["student_name", "benefit_status"])
    with pytest.raises(ValidationError):
        service_referral(net, consented, shared_fields=["nonsense"])


def test_no_agreement_no_referral(net, consented):
    with pytest.raises(GuardFailed, match="협약"):
        service_referral(net, consented, to_organization=net.other_partner_org, service=None)


def test_expired_agreement_does_not_count(net, consented):
    net.agreement.valid_until = TODAY() - timedelta(days=1)
    net.agreement.valid_from = TODAY() - timedelta(days=30)
    net.agreement.save()
    with pytest.raises(GuardFailed, match="협약"):
        service_referral(net, consented)


def test_sensitive_fields_need_an_agreement_that_names_them(net, consented):
    net.agreement.allowed_fields = [*NON_SENSITIVE, "benefit_status", "notes_excerpt"]
    net.agreement.save()
    referral = service_referral(
        net, consented, shared_fields=["student_name", "benefit_status", "notes_excerpt"]
    )
    with pytest.raises(ValidationError):  # an excerpt must be written to be shared
        wf.send_referral(referral, by=net["coordinator"])
    referral.notes_excerpt = "교실에서 위축된 모습"
    referral.save()
    referral = wf.send_referral(referral, by=net["coordinator"])
    assert referral.packet["fields"]["notes_excerpt"] == "교실에서 위축된 모습"


def test_consent_of_both_student_and_guardian_is_needed(net, case):
    consent(net, case, "guardian")
    with pytest.raises(GuardFailed, match="학생 본인"):
        service_referral(net, case)
    consent(net, case, "student", purposes=("support",))  # sharing not consented
    with pytest.raises(GuardFailed, match="학생 본인"):
        service_referral(net, case)


def test_consent_naming_other_recipients_does_not_cover(net, case):
    consent(net, case, "student", recipients=["mental_health"])
    consent(net, case, "guardian", recipients=["mental_health"])
    with pytest.raises(GuardFailed):
        service_referral(net, case)
    consent(net, case, "student", recipients=[net.partner_org.code])
    consent(net, case, "guardian", recipients=["youth_counselling"])
    assert service_referral(net, case).status == "draft"


def test_child_protection_basis_needs_justification_and_is_flagged(net, case):
    with pytest.raises(ValidationError):
        service_referral(net, case, legal_basis="child_protection")
    referral = service_referral(
        net, case, legal_basis="child_protection", justification="아동학대처벌법 제10조 신고"
    )
    referral = wf.send_referral(referral, by=net["coordinator"])
    assert referral.privacy_review and referral.consent is None


def test_only_case_staff_draft_and_only_the_sender_sends(net, consented):
    for username in ("teacher", "vice", "partner", "coordinator2", "casemanager"):
        with pytest.raises(PermissionDenied):
            wf.create_referral(
                consented,
                by=net[username],
                kind="service",
                to_organization=net.partner_org,
                reason="r",
            )
    referral = service_referral(net, consented)
    with pytest.raises(PermissionDenied):
        wf.send_referral(referral, by=net["partner"])
    with pytest.raises(StaleVersion):
        wf.send_referral(referral, by=net["coordinator"], version=referral.version + 1)


def test_default_fields_are_the_allowed_non_sensitive_ones(net, consented):
    referral = service_referral(net, consented, shared_fields=None)
    assert referral.shared_fields == NON_SENSITIVE


def test_referral_needs_reason_and_open_case(net, consented):
    with pytest.raises(ValidationError):
        service_referral(net, consented, reason=" ")
    consented.status = CaseStatus.NOT_SELECTED
    consented.save()
    with pytest.raises(GuardFailed):
        service_referral(net, consented)


def test_service_must_belong_to_the_receiver(net, consented):
    other = ServiceFactory(organization=net.other_partner_org)
    with pytest.raises(ValidationError):
        service_referral(net, consented, service=other)


# --- Receiving side ----------------------------------------------------------------------------


def test_other_partner_cannot_act(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    for username in ("partner2", "casemanager", "coordinator"):
        with pytest.raises(PermissionDenied):
            wf.accept_referral(referral, by=net[username])


def test_accept_straight_from_sent_records_receipt(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    referral = wf.accept_referral(referral, by=net["partner"])
    assert referral.received_at and referral.accepted_at
    assert {p.organization for p in referral.case.participants.filter(role="support")} == {
        net.partner_org
    }


def test_decline_needs_reason_and_notifies_sender(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    with pytest.raises(ValidationError):
        wf.decline_referral(referral, by=net["partner"], reason="")
    referral = wf.decline_referral(referral, by=net["partner"], reason="정원 초과")
    assert referral.status == "declined" and referral.decline_reason == "정원 초과"
    assert Notification.objects.filter(recipient=net["coordinator"], kind="referral_declined")
    with pytest.raises(GuardFailed):
        wf.start_referral(referral, by=net["partner"])


def test_invalid_transitions_answer_guard(net, consented):
    referral = service_referral(net, consented)
    with pytest.raises(PermissionDenied):  # the receiver does not see a draft
        wf.open_referral(referral, by=net["partner"])
    referral = wf.send_referral(referral, by=net["coordinator"])
    with pytest.raises(GuardFailed):
        wf.send_referral(referral, by=net["coordinator"])
    with pytest.raises(GuardFailed):
        wf.start_referral(referral, by=net["partner"])
    with pytest.raises(GuardFailed):
        wf.complete_referral(referral, by=net["partner"], outcome="x")


def test_cancel_by_sender_from_any_open_state(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    wf.accept_referral(referral, by=net["partner"])
    with pytest.raises(PermissionDenied):
        wf.cancel_referral(referral, by=net["partner"], reason="x")
    with pytest.raises(ValidationError):
        wf.cancel_referral(referral, by=net["coordinator"], reason="")
    referral = wf.cancel_referral(referral, by=net["coordinator"], reason="가정에서 거부")
    assert referral.status == "cancelled"
    assert Notification.objects.filter(recipient=net["partner"], kind="referral_cancelled")
    with pytest.raises(GuardFailed):
        wf.cancel_referral(referral, by=net["coordinator"], reason="again")


def _to_state(world, referral, state):
    """Drive a draft referral to `state` the way both sides would."""
    if state == "draft":
        return referral
    referral = wf.send_referral(referral, by=world["coordinator"])
    if state == "sent":
        return referral
    referral = wf.open_referral(referral, by=world["partner"])
    if state == "received":
        return referral
    referral = wf.accept_referral(referral, by=world["partner"])
    if state == "accepted":
        return referral
    return wf.start_referral(referral, by=world["partner"])


@pytest.mark.parametrize("state", ["draft", "sent", "received", "in_progress"])
def test_sender_cancels_from_every_open_state(net, consented, state):
    referral = _to_state(net, service_referral(net, consented), state)
    with pytest.raises(PermissionDenied):
        wf.cancel_referral(referral, by=net["partner"], reason="x")
    referral = wf.cancel_referral(referral, by=net["coordinator"], reason="학교 상담으로 충분")
    assert referral.status == "cancelled" and referral.cancel_reason == "학교 상담으로 충분"
    assert referral.history.first().history_change_reason.startswith(f"{state} → cancelled")
    told = Notification.objects.filter(recipient=net["partner"], kind="referral_cancelled")
    assert told.exists() == (state != "draft")  # the receiver never saw a draft


def test_vice_principal_follows_but_does_not_cancel(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    assert access.is_referral_sender(net["vice"], referral)  # sees the sending side
    assert not access.acts_for_referral_sender(net["vice"], referral)
    assert access.acts_for_referral_sender(net["principal"], referral)
    with pytest.raises(PermissionDenied):
        wf.cancel_referral(referral, by=net["vice"], reason="x")


def test_complete_only_after_the_support_started(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    referral = wf.accept_referral(referral, by=net["partner"])
    with pytest.raises(GuardFailed, match="지원을 시작한"):
        wf.complete_referral(referral, by=net["partner"], outcome="바로 완료")
    referral.refresh_from_db()
    assert referral.status == "accepted" and referral.outcome == ""
    referral = wf.start_referral(referral, by=net["partner"])
    assert wf.complete_referral(referral, by=net["partner"], outcome="4회 상담").status == (
        "completed"
    )


def test_open_referral_blocks_case_closure(net, consented):
    wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    with pytest.raises(GuardFailed, match="의뢰"):
        lifecycle.transition_case(
            consented, by=net["coordinator"], to="closed", closure_reason="goals_met"
        )


def test_thread_between_the_two_sides(net, consented):
    referral = service_referral(net, consented)
    with pytest.raises(GuardFailed):
        wf.post_message(referral, by=net["coordinator"], body="draft")
    referral = wf.send_referral(referral, by=net["coordinator"])
    wf.post_message(referral, by=net["partner"], body="보호자 연락이 안 됩니다")
    wf.post_message(referral, by=net["coordinator"], body="다른 번호를 알려 드릴게요")
    with pytest.raises(PermissionDenied):
        wf.post_message(referral, by=net["partner2"], body="x")
    orgs = [m.organization for m in ReferralMessage.objects.filter(referral=referral)]
    assert orgs == [net.partner_org, net.school]
    assert Notification.objects.filter(recipient=net["coordinator"], kind="referral_message")
    assert Notification.objects.filter(recipient=net["partner"], kind="referral_message")


def test_partner_lead_assigns_within_the_organisation(net, consented):
    from tests.factories import UserFactory

    lead = UserFactory(username="plead")
    MembershipFactory(user=lead, organization=net.partner_org, role="partner_lead")
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    with pytest.raises(PermissionDenied):  # a worker takes it themself, never assigns others
        wf.assign_referral(referral, by=net["partner"], assignee=lead)
    with pytest.raises(ValidationError):
        wf.assign_referral(referral, by=lead, assignee=net["partner2"])
    referral = wf.assign_referral(referral, by=lead, assignee=net["partner"])
    assert referral.assignee == net["partner"]
    assert Notification.objects.filter(recipient=net["partner"], kind="referral_assigned")


# --- Escalation --------------------------------------------------------------------------------


def test_escalation_accepted_by_centre_head_makes_office_the_lead(net, case):
    lifecycle.transition_case(case, by=net["coordinator"], to="reviewing")
    office_consents(net, case)
    referral = wf.send_referral(escalation(net, case), by=net["coordinator"])
    assert referral.packet and not access.visible_cases(net["casemanager"]).exists()
    assert list(access.received_referrals(net["centrehead"])) == [referral]
    with pytest.raises(PermissionDenied, match="센터장"):
        wf.accept_referral(referral, by=net["casemanager"], reasons="x")
    with pytest.raises(ValidationError):
        wf.accept_referral(referral, by=net["centrehead"], reasons="")
    referral = wf.accept_referral(referral, by=net["centrehead"], reasons="위기 수준 높음")
    case.refresh_from_db()
    assert case.lead == net.nambu and case.status == CaseStatus.SELECTED
    decision = Decision.objects.get(case=case, decision="select")
    assert decision.reasons == "위기 수준 높음" and decision.decided_by == net["centrehead"]
    assert access.has_case_perm(net["casemanager"], access.MANAGE_CASE, case)
    assert not access.has_case_perm(net["casemanager"], access.VIEW_RESTRICTED_NOTES, case)
    assert not access.visible_cases(net["casemanager2"]).exists()
    # The school keeps its case; the office can now refer onward.
    assert access.has_case_perm(net["coordinator"], access.MANAGE_CASE, case)
    assert sharing.sending_organization(net["casemanager"], case) == net.nambu
    note = Notification.objects.get(recipient=net["coordinator"], kind="referral_accepted")
    assert note.body == "위기 수준 높음"


def test_escalation_declined_with_reasons_keeps_the_school_lead(net, case):
    office_consents(net, case)
    referral = wf.send_referral(escalation(net, case), by=net["coordinator"])
    wf.decline_referral(referral, by=net["centrehead"], reason="학교 내 지원으로 충분")
    case.refresh_from_db()
    assert case.lead == net.school
    assert Decision.objects.filter(case=case, decision="not_select").exists()
    assert not access.visible_cases(net["casemanager"]).exists()


def test_escalation_needs_both_consents_to_share_with_the_office(net, case):
    with pytest.raises(GuardFailed, match="교육지원청 정보 제공"):
        escalation(net, case)
    # Consents to share with partners do not cover the district office.
    consent(net, case, "student")
    consent(net, case, "guardian")
    with pytest.raises(GuardFailed, match=r"학생 본인.*보호자"):
        escalation(net, case)
    consent(net, case, "student", purposes=("support", "share_with_office"))
    with pytest.raises(GuardFailed, match="보호자의 정보 제공 동의"):
        escalation(net, case)
    guardian = consent(net, case, "guardian", purposes=("support", "share_with_office"))
    referral = wf.send_referral(escalation(net, case), by=net["coordinator"])
    assert referral.consent == guardian and not referral.privacy_review


def test_escalation_without_consent_needs_another_basis_with_justification(net, case):
    with pytest.raises(ValidationError):
        escalation(net, case, legal_basis="emergency")
    referral = escalation(
        net, case, legal_basis="child_protection", justification="아동학대 의심 신고와 함께 요청"
    )
    referral = wf.send_referral(referral, by=net["coordinator"])
    assert referral.consent is None and referral.privacy_review


def test_database_refuses_a_sent_escalation_on_consent_without_one(net, case):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralFactory(
            case=case,
            kind="escalation",
            to_organization=net.nambu,
            status="sent",
            legal_basis="consent",
            justification="",
        )


def test_withdrawing_the_office_consent_cancels_an_open_escalation(net, case):
    guardian = office_consents(net, case)
    referral = wf.send_referral(escalation(net, case), by=net["coordinator"])
    consents.withdraw_consent(guardian, by=net["coordinator"], reason="보호자 요청")
    referral.refresh_from_db()
    assert referral.status == "cancelled" and referral.packet is None
    assert not access.visible_referrals(net["centrehead"]).filter(pk=referral.pk).exists()


def test_lead_office_staff_start_and_complete_an_accepted_escalation(net, case):
    """DESIGN.md §4: accepting makes the office the lead; its case managers (or the centre head)
    work the case, then start and complete the escalation, whose outcome returns to the school."""
    office_consents(net, case)
    referral = wf.send_referral(escalation(net, case), by=net["coordinator"])
    referral = wf.accept_referral(referral, by=net["centrehead"], reasons="통합사례관리 대상")
    for username in ("coordinator", "principal", "partner", "casemanager2"):
        with pytest.raises(PermissionDenied):
            wf.start_referral(referral, by=net[username])
    referral = wf.start_referral(referral, by=net["casemanager"])
    with pytest.raises(PermissionDenied):
        wf.complete_referral(referral, by=net["coordinator"], outcome="x")
    referral = wf.complete_referral(
        referral, by=net["casemanager"], outcome="3개월 통합 지원 후 안정"
    )
    assert referral.status == "completed"
    note = Notification.objects.get(recipient=net["coordinator"], kind="referral_completed")
    assert note.body == "3개월 통합 지원 후 안정"
    case.refresh_from_db()
    assert case.lead == net.nambu  # completing the escalation does not hand the lead back


def test_escalation_goes_only_to_the_schools_district_and_only_once(net, case):
    office_consents(net, case)
    with pytest.raises(ValidationError):
        wf.create_referral(
            case, by=net["coordinator"], kind="escalation", to_organization=net.bukbu, reason="r"
        )
    escalation(net, case)
    with pytest.raises(GuardFailed):
        escalation(net, case)


def test_principal_may_send_an_escalation(net, case):
    office_consents(net, case)
    referral = wf.create_referral(
        case, by=net["principal"], kind="escalation", to_organization=net.nambu, reason="r"
    )
    assert wf.send_referral(referral, by=net["principal"]).status == "sent"


def test_lead_office_refers_onward(net, consented):
    office_consents(net, consented)
    referral = wf.send_referral(escalation(net, consented), by=net["coordinator"])
    wf.accept_referral(referral, by=net["centrehead"], reasons="r")
    consented.refresh_from_db()
    onward = wf.create_referral(
        consented,
        by=net["casemanager"],
        kind="service",
        to_organization=net.partner_org,
        reason="지역 상담 연계",
        shared_fields=["student_name", "grade"],
    )
    assert onward.from_organization == net.nambu
    onward = wf.send_referral(onward, by=net["casemanager"])
    assert access.visible_referrals(net["coordinator"]).filter(pk=onward.pk).exists()
    assert list(access.sent_referrals(net["casemanager"])) == [onward]


# --- Consent withdrawal ------------------------------------------------------------------------


def test_withdrawal_cancels_relying_referrals_and_revokes_at_once(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    wf.accept_referral(referral, by=net["partner"])
    protection = wf.send_referral(
        service_referral(net, consented, legal_basis="emergency", justification="자해 위험"),
        by=net["coordinator"],
    )
    with pytest.raises(ValidationError):
        consents.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="")
    consents.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="보호자 요청")
    referral.refresh_from_db()
    assert referral.status == "cancelled" and "동의 철회" in referral.cancel_reason
    assert referral.packet is None and referral.packet_purged_at
    assert not access.visible_referrals(net["partner"]).filter(pk=referral.pk).exists()
    # A referral on another legal basis did not rely on the consent.
    protection.refresh_from_db()
    assert protection.status == "sent"
    with pytest.raises(GuardFailed):
        consents.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="again")


def test_withdrawal_is_one_transaction(net, consented, monkeypatch):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])

    def boom(*a, **k):
        raise RuntimeError("revocation failed")

    monkeypatch.setattr(access, "revoke_referral_from_receiver", boom)
    with pytest.raises(RuntimeError):
        consents.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="x")
    net.guardian_consent.refresh_from_db()
    referral.refresh_from_db()
    assert net.guardian_consent.withdrawn_on is None and referral.status == "sent"


def test_withdrawal_keeps_referrals_another_consent_still_covers(net, consented):
    second = consent(net, consented, "guardian")
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    consents.withdraw_consent(referral.consent, by=net["coordinator"], reason="x")
    referral.refresh_from_db()
    assert referral.status == "sent" and referral.consent == second
