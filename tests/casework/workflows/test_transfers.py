"""Transfers (DESIGN.md §4): a request the new school accepts or declines, what moves with the
case and its referrals, and claims by the new school."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from casework import access
from casework.models import Case, Notification, Referral, ReferralMessage, Transfer
from casework.workflows import lifecycle, reminders, transfers
from casework.workflows import referrals as wf
from casework.workflows.errors import GuardFailed
from tests.builders import escalation, office_consents, service_referral
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


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
    assert reminders.send_reminders(date(2026, 11, 19)) == 1  # 3 business days late
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
