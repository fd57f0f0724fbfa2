"""Referrals, consent withdrawal and transfers (DESIGN.md §4): every transition and guard."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from casework import access, deadlines
from casework.models import (
    Case,
    CaseStatus,
    Decision,
    DestructionRecord,
    Notification,
    Referral,
    ReferralMessage,
    Transfer,
)
from casework.workflows import intake, lifecycle, records, transfers
from casework.workflows import referrals as wf
from casework.workflows.errors import GuardFailed, StaleVersion
from tests.factories import (
    AgreementFactory,
    MembershipFactory,
    ReferralFactory,
    ServiceFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate
NON_SENSITIVE = [
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
]


@pytest.fixture
def net(world):
    """The agreement the province made with the youth counselling centre (non-sensitive fields)
    and its service; the mental-health centre has no agreement."""
    world.agreement = AgreementFactory(
        office=world.province, partner=world.partner_org, allowed_fields=NON_SENSITIVE
    )
    world.service = ServiceFactory(organization=world.partner_org, name="청소년 상담")
    return world


@pytest.fixture
def case(net):
    student = StudentFactory(school=net.school, name="김하늘", home_borough=net.borough)
    student.guardians.create(name="김보호", relation="모", phone="010-1234-5678")
    return intake.open_case(
        by=net["coordinator"], student=student, difficulties=["psychological"], summary="s"
    )


def consent(world, case, subject, purposes=("support", "share_with_partners"), **extra):
    if subject == "guardian":
        extra = {"guardian_name": "김보호", "relation": "모", **extra}
    return records.record_consent(
        case,
        by=world["coordinator"],
        subject=subject,
        purposes=list(purposes),
        method="written",
        given_on=TODAY(),
        **extra,
    )


@pytest.fixture
def consented(net, case):
    consent(net, case, "student")
    net.guardian_consent = consent(net, case, "guardian")
    return case


def service_referral(world, case, **kw):
    args = {
        "kind": "service",
        "to_organization": world.partner_org,
        "service": world.service,
        "reason": "또래 관계 어려움으로 상담 필요",
        "requested_domains": ["counselling"],
        "requested_support": "주 1회 개인 상담",
        "shared_fields": ["student_name", "grade", "reason", "guardian_contact"],
    }
    args.update(kw)
    return wf.create_referral(case, by=world["coordinator"], **args)


def office_consents(world, case):
    """Both consents to share with the district office: an escalation needs them too."""
    consent(world, case, "student", purposes=("support", "share_with_office"))
    return consent(world, case, "guardian", purposes=("support", "share_with_office"))


def escalation(world, case, **kw):
    return wf.create_referral(
        case,
        by=world["coordinator"],
        kind="escalation",
        to_organization=world.nambu,
        reason="학교 차원의 지원으로 부족",
        **kw,
    )


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
    assert wf.sending_organization(net["casemanager"], case) == net.nambu
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
    records.withdraw_consent(guardian, by=net["coordinator"], reason="보호자 요청")
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
        records.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="")
    records.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="보호자 요청")
    referral.refresh_from_db()
    assert referral.status == "cancelled" and "동의 철회" in referral.cancel_reason
    assert referral.packet is None and referral.packet_purged_at
    assert not access.visible_referrals(net["partner"]).filter(pk=referral.pk).exists()
    # A referral on another legal basis did not rely on the consent.
    protection.refresh_from_db()
    assert protection.status == "sent"
    with pytest.raises(GuardFailed):
        records.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="again")


def test_withdrawal_is_one_transaction(net, consented, monkeypatch):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])

    def boom(*a, **k):
        raise RuntimeError("revocation failed")

    monkeypatch.setattr(access, "revoke_referral_from_receiver", boom)
    with pytest.raises(RuntimeError):
        records.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="x")
    net.guardian_consent.refresh_from_db()
    referral.refresh_from_db()
    assert net.guardian_consent.withdrawn_on is None and referral.status == "sent"


def test_withdrawal_keeps_referrals_another_consent_still_covers(net, consented):
    second = consent(net, consented, "guardian")
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    records.withdraw_consent(referral.consent, by=net["coordinator"], reason="x")
    referral.refresh_from_db()
    assert referral.status == "sent" and referral.consent == second


def test_closed_referral_packets_expire_with_the_agreement(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    wf.decline_referral(referral, by=net["partner"], reason="정원 초과")
    referral.refresh_from_db()
    expiry = referral.packet_expires_on
    assert expiry == TODAY() + timedelta(days=net.agreement.retention_days)
    assert wf.purge_expired_packets(expiry) == 0
    assert not DestructionRecord.objects.exists()
    assert wf.purge_expired_packets(expiry + timedelta(days=1)) == 1
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
    assert wf.purge_expired_packets(expiry + timedelta(days=2)) == 0  # once
    assert DestructionRecord.objects.count() == 1


def test_packets_outside_an_agreement_expire_after_the_default_retention(net, case, settings):
    settings.REFERRAL_PACKET_RETENTION_DAYS = 30
    office_consents(net, case)
    referral = wf.send_referral(escalation(net, case), by=net["coordinator"])
    referral = wf.decline_referral(referral, by=net["centrehead"], reason="학교 지원 권고")
    assert referral.agreement is None
    assert referral.packet_expires_on == TODAY() + timedelta(days=30)
    assert wf.purge_expired_packets(TODAY() + timedelta(days=31), by=net["privacy"]) == 1
    record = DestructionRecord.objects.get(object_id=referral.pk)
    assert record.rule == "default_retention" and record.destroyed_by == net["privacy"]
    assert record.rule_detail == "REFERRAL_PACKET_RETENTION_DAYS=30"
    assert record.history.get().history_user == net["privacy"]


def test_withdrawal_destroys_the_packet_and_records_it(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    records.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="보호자 요청")
    record = DestructionRecord.objects.get(object_id=referral.pk)
    assert record.rule == "consent_withdrawn" and record.destroyed_by == net["coordinator"]
    assert record.due_on is None and record.parts == ["packet"]


def test_destruction_register_is_append_only(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    records.withdraw_consent(net.guardian_consent, by=net["coordinator"], reason="보호자 요청")
    record = DestructionRecord.objects.get(object_id=referral.pk)
    record.rule_detail = "고침"
    with pytest.raises(ValidationError):
        record.save()


# --- Deadlines and reminders -------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (date(2026, 2, 13), 1, date(2026, 2, 19)),  # Fri before 설날 (16–18 Feb) → Thu
        (date(2026, 2, 12), 3, date(2026, 2, 20)),
        (date(2026, 9, 23), 1, date(2026, 9, 28)),  # 추석 24–26 Sep (Thu–Sat) → Mon
        (date(2026, 10, 2), 1, date(2026, 10, 6)),  # 개천절 substitute Mon 5 Oct
        (date(2027, 2, 5), 1, date(2027, 2, 10)),  # 설날 6–8 Feb + substitute 9 Feb
        (date(2026, 11, 20), 5, date(2026, 11, 27)),  # plain week
    ],
)
def test_business_days_around_korean_holidays(start, days, expected):
    assert deadlines.add_business_days(start, days) == expected


def test_holiday_names_and_counting():
    assert deadlines.holiday_name(date(2026, 9, 25)) == "추석"
    assert not deadlines.is_business_day(date(2026, 2, 17))
    assert deadlines.business_days_between(date(2026, 2, 13), date(2026, 2, 20)) == 2


def test_urgency_shortens_the_default_deadline(net, consented):
    referral = wf.send_referral(
        service_referral(net, consented, urgency="urgent"), by=net["coordinator"]
    )
    assert referral.respond_by == deadlines.add_business_days(TODAY(), 1)


def test_overdue_reminders_go_to_receiver_then_sender_and_head(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    monday = date(2026, 11, 16)
    Referral.objects.filter(pk=referral.pk).update(respond_by=monday)
    referral.refresh_from_db()
    assert not referral.is_overdue(monday) and referral.is_overdue(monday + timedelta(days=1))
    assert wf.send_reminders(monday + timedelta(days=1)) == 1
    assert wf.send_reminders(monday + timedelta(days=1)) == 0  # once a day
    assert (
        Notification.objects.filter(recipient=net["partner"], kind="referral_overdue").count() == 1
    )
    assert not Notification.objects.filter(kind="referral_overdue_sender").exists()
    assert wf.send_reminders(monday + timedelta(days=5)) == 0  # a Saturday: no reminders
    assert wf.send_reminders(monday + timedelta(days=3)) == 1  # 3 business days late
    sender_side = set(
        Notification.objects.filter(kind="referral_overdue_sender").values_list(
            "recipient__username", flat=True
        )
    )
    assert sender_side == {"coordinator", "principal"}
    wf.accept_referral(referral, by=net["partner"])
    assert wf.send_reminders(monday + timedelta(days=4)) == 0  # answered: no longer overdue


# --- Transfers ---------------------------------------------------------------------------------


def test_transfer_moves_the_case_and_the_access(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    counsellor = net["counselor"]
    from casework.workflows import team

    team.add_team_member(consented, by=net["coordinator"], user=counsellor, role="counsellor")
    with pytest.raises(PermissionDenied):
        transfers.request_transfer(
            consented, by=net["teacher"], to_school=net.other_school, reason="전학"
        )
    transfer = transfers.request_transfer(
        consented, by=net["coordinator"], to_school=net.other_school, reason="이사로 전학"
    )
    assert access.visible_transfers(net["coordinator2"]).get() == transfer
    assert not access.visible_cases(net["coordinator2"]).exists()
    with pytest.raises(PermissionDenied):
        transfers.accept_transfer(transfer, by=net["coordinator"])
    transfers.accept_transfer(transfer, by=net["coordinator2"])
    case = Case.objects.get(pk=consented.pk)
    assert case.owner == net.other_school and case.lead == net.other_school
    assert case.student.school == net.other_school and case.coordinator == net["coordinator2"]
    for username in ("coordinator", "principal", "vice", "counselor"):
        assert not access.visible_cases(net[username]).exists(), username
        assert not access.visible_referrals(net[username]).exists(), username
        assert not access.visible_students(net[username]).filter(pk=case.student_id).exists()
    assert access.has_case_perm(net["coordinator2"], access.MANAGE_CASE, case)
    assert access.visible_referrals(net["coordinator2"]).get() == referral
    assert {(p.organization, p.role) for p in case.participants.filter(until__isnull=True)} >= {
        (net.other_school, "owner"),
        (net.other_school, "lead"),
    }


def test_transfer_hands_open_referrals_to_the_new_school(net, consented):
    sent = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    draft = service_referral(net, consented, reason="방학 중 상담")
    done = wf.send_referral(
        service_referral(net, consented, reason="지난 의뢰"), by=net["coordinator"]
    )
    wf.decline_referral(done, by=net["partner"], reason="정원 초과")
    transfer = transfers.request_transfer(
        consented, by=net["coordinator"], to_school=net.other_school, reason="이사로 전학"
    )
    transfers.accept_transfer(transfer, by=net["coordinator2"])
    new, old = net.other_school, net.school
    for referral in (sent, draft):
        referral.refresh_from_db()
        assert referral.from_organization == new
        row = referral.history.first()
        assert row.history_user == net["coordinator2"]
        assert row.history_change_reason == f"전학 이관: 보낸 기관 {old.code} → {new.code}"
    done.refresh_from_db()
    assert done.from_organization == old  # what the old school sent stays its record
    assert Notification.objects.filter(recipient=net["partner"], kind="referral_sender_changed")
    # The new school's coordinator works them: outbox, thread, send, cancel.
    coordinator2 = net["coordinator2"]
    assert set(access.sent_referrals(coordinator2)) == {sent, draft}
    assert access.acts_for_referral_sender(coordinator2, sent)
    wf.post_message(sent, by=coordinator2, body="전학 온 학교 담당자입니다")
    assert ReferralMessage.objects.get(referral=sent).organization == new
    draft = wf.send_referral(draft, by=coordinator2)
    assert draft.packet["fields"]["student_name"] == "김하늘"
    for referral in (sent, draft):
        wf.cancel_referral(referral, by=coordinator2, reason="새 학교에서 다시 연계")
    case = lifecycle.transition_case(
        Case.objects.get(pk=consented.pk),
        by=coordinator2,
        to="closed",
        closure_reason="no_longer_needed",
        reason="새 학교 지원으로 충분",
    )
    assert case.status == "closed"


def test_old_school_hears_nothing_of_the_case_after_a_transfer(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    transfers.accept_transfer(
        transfers.request_transfer(
            consented, by=net["coordinator"], to_school=net.other_school, reason="전학"
        ),
        by=net["coordinator2"],
    )
    before = set(Notification.objects.values_list("pk", flat=True))
    referral = wf.accept_referral(referral, by=net["partner"])
    wf.post_message(referral, by=net["partner"], body="보호자와 통화했습니다")
    referral = wf.start_referral(referral, by=net["partner"])
    wf.complete_referral(referral, by=net["partner"], outcome="6회 상담, 관계 개선")
    later = Notification.objects.exclude(pk__in=before)
    assert set(later.values_list("recipient__username", flat=True)) == {"coordinator2"}
    assert later.filter(kind="referral_completed", body="6회 상담, 관계 개선").exists()


def test_old_school_hears_no_overdue_reminders_after_a_transfer(net, consented):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    transfers.accept_transfer(
        transfers.request_transfer(
            consented, by=net["coordinator"], to_school=net.other_school, reason="전학"
        ),
        by=net["coordinator2"],
    )
    Referral.objects.filter(pk=referral.pk).update(respond_by=date(2026, 11, 16))
    assert wf.send_reminders(date(2026, 11, 19)) == 1  # 3 business days late
    told = set(
        Notification.objects.filter(kind="referral_overdue_sender").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"coordinator2"}


def test_undecided_escalation_after_a_move_to_another_district(net, case):
    office_consents(net, case)
    referral = wf.send_referral(escalation(net, case), by=net["coordinator"])
    transfers.accept_transfer(
        transfers.request_transfer(
            case, by=net["coordinator"], to_school=net.other_school, reason="전학"
        ),
        by=net["coordinator2"],
    )
    with pytest.raises(GuardFailed, match="관할"):  # 남부 no longer covers the school
        wf.accept_referral(referral, by=net["centrehead"], reasons="r")
    referral = wf.cancel_referral(referral, by=net["coordinator2"], reason="관할 변경")
    assert referral.status == "cancelled"


def test_only_the_owner_schools_staff_request_or_cancel_a_transfer(net, consented):
    office_consents(net, consented)
    escalated = wf.send_referral(escalation(net, consented), by=net["coordinator"])
    wf.accept_referral(escalated, by=net["centrehead"], reasons="r")
    consented.refresh_from_db()
    assert access.has_case_perm(net["casemanager"], access.MANAGE_CASE, consented)
    assert not access.may_request_transfer(net["casemanager"], consented)
    assert not access.may_request_transfer(net["vice"], consented)
    assert access.may_request_transfer(net["principal"], consented)
    with pytest.raises(PermissionDenied):
        transfers.request_transfer(
            consented, by=net["casemanager"], to_school=net.other_school, reason="전학"
        )
    transfer = transfers.request_transfer(
        consented, by=net["principal"], to_school=net.other_school, reason="전학"
    )
    with pytest.raises(PermissionDenied):
        transfers.cancel_transfer(transfer, by=net["casemanager"])
    assert transfers.cancel_transfer(transfer, by=net["coordinator"]).status == "cancelled"


def test_transfer_decline_and_cancel(net, case):
    transfer = transfers.request_transfer(
        case, by=net["coordinator"], to_school=net.other_school, reason="전학"
    )
    with pytest.raises(GuardFailed):
        transfers.request_transfer(
            case, by=net["coordinator"], to_school=net.other_school, reason="again"
        )
    with pytest.raises(ValidationError):
        transfers.decline_transfer(transfer, by=net["coordinator2"], reason="")
    transfers.decline_transfer(transfer, by=net["coordinator2"], reason="재학생 아님")
    assert Transfer.objects.get(pk=transfer.pk).status == "declined"
    case.refresh_from_db()
    assert case.owner == net.school
    again = transfers.request_transfer(
        case, by=net["coordinator"], to_school=net.other_school, reason="확인 후 재요청"
    )
    transfers.cancel_transfer(again, by=net["coordinator"])
    assert Transfer.objects.get(pk=again.pk).status == "cancelled"


# --- Claims by the new school ------------------------------------------------------------------


def claim(world, student, by="coordinator2", **kw):
    named = {
        "neis_id": student.neis_id,
        "student_name": student.name,
        "birth_date": student.birth_date,
        "reason": "우리 학교로 전학 왔습니다",
    }
    named.update(kw)
    return transfers.claim_transfer(by=world[by], **named)


@pytest.fixture
def named(case):
    case.student.neis_id = "N-2026-0001"
    case.student.save()
    return case.student


def test_claim_answers_alike_whether_or_not_a_case_exists(net, case, named):
    closed = StudentFactory(school=net.school, neis_id="N-2026-0002")
    made = [
        claim(net, named),
        claim(net, named, student_name="김하늬"),  # one identifier wrong: no match
        claim(net, named, neis_id="N-9999"),
        claim(net, closed),  # a student without an open case
    ]
    assert [c.case_id for c in made] == [case.pk, None, None, None]
    assert {transfers.claimant_status(c) for c in made} == {"pending"}
    assert {c.status for c in made} == {"pending"} and not Transfer.objects.exists()
    assert set(access.visible_claims(net["coordinator2"])) == set(made)
    # Only the old school hears of the one that matched, and sees only it.
    assert list(access.visible_claims(net["coordinator"])) == [made[0]]
    told = Notification.objects.filter(kind="transfer_requested")
    assert list(told.values_list("recipient__username", flat=True)) == ["coordinator"]
    assert not access.visible_cases(net["coordinator2"]).exists()  # nothing is opened by asking


def test_old_school_confirms_a_claim_and_the_case_moves(net, consented, named):
    referral = wf.send_referral(service_referral(net, consented), by=net["coordinator"])
    made = claim(net, named)
    done = transfers.confirm_claim(made, by=net["coordinator"])
    assert done.status == "confirmed" and transfers.claimant_status(done) == "confirmed"
    case = Case.objects.get(pk=consented.pk)
    assert case.owner == net.other_school and case.coordinator == net["coordinator2"]
    assert case.student.school == net.other_school
    transfer = done.transfer
    assert (transfer.status, transfer.requested_by, transfer.decided_by) == (
        "accepted",
        net["coordinator2"],
        net["coordinator"],
    )
    assert access.has_case_perm(net["coordinator2"], access.MANAGE_CASE, case)
    assert not access.visible_cases(net["coordinator"]).exists()
    referral.refresh_from_db()
    assert referral.from_organization == net.other_school  # handed over as on acceptance
    assert Notification.objects.filter(recipient=net["coordinator2"], kind="transfer_accepted")
    with pytest.raises(GuardFailed):
        transfers.confirm_claim(made, by=net["coordinator2"])  # once


def test_claimant_never_decides_and_never_learns_a_decline(net, case, named):
    matched, unmatched = claim(net, named), claim(net, named, neis_id="N-9999")
    for made in (matched, unmatched):
        with pytest.raises(PermissionDenied):
            transfers.confirm_claim(made, by=net["coordinator2"])
        with pytest.raises(PermissionDenied):
            transfers.decline_claim(made, by=net["coordinator2"], reason="x")
    for username in ("vice", "teacher", "casemanager"):
        with pytest.raises(PermissionDenied):
            transfers.confirm_claim(matched, by=net[username])
    with pytest.raises(ValidationError):
        transfers.decline_claim(matched, by=net["coordinator"], reason=" ")
    declined = transfers.decline_claim(matched, by=net["coordinator"], reason="재학 중인 학생")
    assert declined.status == "declined"
    assert transfers.claimant_status(declined) == transfers.claimant_status(unmatched) == "pending"
    later = timezone.now() - timedelta(days=transfers.CLAIM_DAYS + 1)
    transfers.TransferClaim.objects.update(claimed_at=later)
    for made in (declined, unmatched):
        made.refresh_from_db()
        assert transfers.claimant_status(made) == "unconfirmed"
    assert Case.objects.get(pk=case.pk).owner == net.school


def test_a_claim_past_its_days_is_not_confirmed(net, case, named):
    made = claim(net, named)
    transfers.TransferClaim.objects.filter(pk=made.pk).update(
        claimed_at=timezone.now() - timedelta(days=transfers.CLAIM_DAYS + 1)
    )
    with pytest.raises(GuardFailed, match="기한"):
        transfers.confirm_claim(made, by=net["coordinator"])


def test_only_a_schools_coordinator_claims_with_all_three_identifiers(net, case, named):
    for username in ("teacher", "vice", "principal", "casemanager", "partner"):
        with pytest.raises(PermissionDenied):
            claim(net, named, by=username)
    with pytest.raises(ValidationError) as refused:
        claim(net, named, neis_id=" ", student_name="", birth_date=None, reason="")
    assert set(refused.value.message_dict) == {"neis_id", "student_name", "birth_date", "reason"}
    # A school cannot claim its own student's case.
    assert claim(net, named, by="coordinator").case_id is None
