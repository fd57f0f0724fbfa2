"""Casework workflows: each transition's guards, who may do what, history and notifications."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from casework import access
from casework.models import (
    Case,
    CaseStatus,
    Concern,
    Decision,
    Note,
    Notification,
    SupportPlan,
)
from casework.workflows import intake, lifecycle, planning, records, team
from casework.workflows.errors import GuardFailed, StaleVersion
from tests.builders import approved_plan, consent_both, select_case
from tests.factories import ReferralFactory, StudentFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture
def student(world):
    return StudentFactory(school=world.school, name="김하늘")


@pytest.fixture
def student_case(world, student):
    """The case the coordinator opened for `student` (no guardian on file)."""
    return intake.open_case(
        by=world["coordinator"], student=student, difficulties=["psychological"], summary="s"
    )


# --- Concerns and triage ------------------------------------------------------------------


def test_teacher_raises_concern_and_coordinator_is_notified(world, student):
    concern = intake.raise_concern(
        by=world["teacher"], student=student, difficulties=["basic_learning"], description="d"
    )
    assert concern.school == world.school and concern.status == Concern.Status.OPEN
    assert Notification.objects.filter(
        recipient=world["coordinator"], kind="concern_raised"
    ).exists()
    assert concern.history.first().history_user == world["teacher"]


@pytest.mark.parametrize("username", ["partner", "coordinator2", "casemanager"])
def test_outsiders_cannot_raise_concerns(world, student, username):
    with pytest.raises(PermissionDenied):
        intake.raise_concern(by=world[username], student=student, difficulties=["economic"])


def test_concern_needs_known_difficulties(world, student):
    with pytest.raises(ValidationError):
        intake.raise_concern(by=world["teacher"], student=student, difficulties=[])
    with pytest.raises(ValidationError):
        intake.raise_concern(by=world["teacher"], student=student, difficulties=["nonsense"])


def test_triage_opens_case_with_number_grants_and_team(world, student):
    concern = intake.raise_concern(by=world["teacher"], student=student, difficulties=["economic"])
    concern = intake.triage_concern(concern, by=world["coordinator"], decision="open_case")
    case = concern.case
    assert re.fullmatch(rf"{TODAY().year}-S0001-0001", case.number)
    assert case.status == CaseStatus.IDENTIFIED
    assert case.coordinator == world["coordinator"]
    assert {(p.organization, p.role) for p in case.participants.all()} == {
        (world.school, "owner"),
        (world.school, "lead"),
    }
    assert list(access.visible_cases(world["principal"])) == [case]
    assert not access.visible_cases(world["teacher"]).exists()
    assert Notification.objects.filter(recipient=world["teacher"], kind="concern_triaged").exists()


def test_case_numbers_count_up_per_school(world):
    numbers = [
        intake.open_case(
            by=world["coordinator"], student=StudentFactory(school=world.school), difficulties=[]
        ).number
        for _ in range(3)
    ]
    assert [n[-4:] for n in numbers] == ["0001", "0002", "0003"]


def test_second_open_case_for_a_student_is_refused(world, student, student_case):
    with pytest.raises(GuardFailed):
        intake.open_case(by=world["coordinator"], student=student, difficulties=["economic"])


def test_triage_no_action_needs_reason_and_attach_needs_same_student(world, student, student_case):
    concern = intake.raise_concern(by=world["teacher"], student=student, difficulties=["health"])
    with pytest.raises(ValidationError):
        intake.triage_concern(concern, by=world["coordinator"], decision="no_action")
    other = intake.open_case(
        by=world["coordinator"], student=StudentFactory(school=world.school), difficulties=[]
    )
    with pytest.raises(GuardFailed):
        intake.triage_concern(concern, by=world["coordinator"], decision="attach", case=other)
    concern = intake.triage_concern(
        concern, by=world["coordinator"], decision="attach", case=student_case
    )
    assert concern.case == student_case and concern.triage == "attach"
    with pytest.raises(GuardFailed):
        intake.triage_concern(concern, by=world["coordinator"], decision="no_action", reason="x")


def test_only_the_coordinator_triages(world, student):
    concern = intake.raise_concern(by=world["teacher"], student=student, difficulties=["health"])
    for username in ("teacher", "principal", "coordinator2"):
        with pytest.raises(PermissionDenied):
            intake.triage_concern(concern, by=world[username], decision="no_action", reason="r")


# --- Lifecycle guards -----------------------------------------------------------------------


def test_selection_needs_a_recorded_decision(world, student_case):
    lifecycle.transition_case(student_case, by=world["coordinator"], to="reviewing")
    student_case.refresh_from_db()
    with pytest.raises(GuardFailed, match="선정 결정"):
        lifecycle.transition_case(student_case, by=world["coordinator"], to="selected")


def test_meeting_decision_selects_and_records_reasons(world, student_case):
    student_case = select_case(world, student_case)
    assert student_case.status == CaseStatus.SELECTED
    decision = Decision.objects.get(case=student_case)
    assert decision.reasons == "정서 지원 필요" and decision.meeting.guests == ["외부 위원"]


def test_activation_needs_both_consents_and_an_approved_plan(world, student_case):
    student_case = select_case(world, student_case)
    with pytest.raises(GuardFailed) as excinfo:
        lifecycle.transition_case(student_case, by=world["coordinator"], to="active")
    assert "학생 본인의 동의" in excinfo.value.message and "보호자의 동의" in excinfo.value.message

    records.record_consent(
        student_case,
        by=world["coordinator"],
        subject="student",
        purposes=["support"],
        method="written",
        given_on=TODAY(),
    )
    with pytest.raises(GuardFailed, match="보호자의 동의"):
        lifecycle.transition_case(student_case, by=world["coordinator"], to="active")
    consent_both(world, student_case)
    with pytest.raises(GuardFailed, match="승인된 지원 계획"):
        lifecycle.transition_case(student_case, by=world["coordinator"], to="active")
    approved_plan(world, student_case)
    student_case.refresh_from_db()
    student_case = lifecycle.transition_case(student_case, by=world["coordinator"], to="active")
    assert student_case.status == CaseStatus.ACTIVE


def test_withdrawn_or_expired_consent_does_not_count(world, student_case):
    student_case = select_case(world, student_case)
    approved_plan(world, student_case)
    consent_both(world, student_case)
    guardian = student_case.consents.get(subject="guardian")
    guardian.withdrawn_on = TODAY()
    guardian.save()
    student_case.refresh_from_db()
    with pytest.raises(GuardFailed, match="보호자의 동의"):
        lifecycle.transition_case(student_case, by=world["coordinator"], to="active")


def test_guardian_consent_needs_name_and_relation(world, student_case):
    with pytest.raises(ValidationError):
        records.record_consent(
            student_case,
            by=world["coordinator"],
            subject="guardian",
            purposes=["support"],
            method="written",
            given_on=TODAY(),
        )


def test_closure_needs_reason_and_no_open_referral(world, student_case):
    with pytest.raises(ValidationError):
        lifecycle.transition_case(student_case, by=world["coordinator"], to="closed")
    referral = ReferralFactory(case=student_case, to_organization=world.partner_org, status="sent")
    with pytest.raises(GuardFailed, match="의뢰"):
        lifecycle.transition_case(
            student_case, by=world["coordinator"], to="closed", closure_reason="goals_met"
        )
    referral.status = "completed"
    referral.outcome = "종결"
    referral.save()
    student_case = lifecycle.transition_case(
        student_case, by=world["coordinator"], to="closed", closure_reason="goals_met"
    )
    assert student_case.status == "closed" and student_case.closed_on == TODAY()
    assert student_case.history.first().history_change_reason.startswith("identified → closed")


def test_reopen_needs_reason_and_a_fresh_selection(world, student_case):
    student_case = select_case(world, student_case)
    student_case = lifecycle.transition_case(
        student_case, by=world["coordinator"], to="closed", closure_reason="no_longer_needed"
    )
    with pytest.raises(ValidationError):
        lifecycle.transition_case(student_case, by=world["coordinator"], to="reviewing")
    student_case = lifecycle.transition_case(
        student_case, by=world["coordinator"], to="reviewing", reason="재발"
    )
    assert student_case.closure_reason == "" and student_case.closed_on is None
    with pytest.raises(GuardFailed, match="선정 결정"):
        lifecycle.transition_case(student_case, by=world["coordinator"], to="selected")


def test_not_selected_records_a_decision_and_frees_the_student(world, student, student_case):
    lifecycle.transition_case(student_case, by=world["coordinator"], to="reviewing")
    student_case.refresh_from_db()
    with pytest.raises(ValidationError):
        lifecycle.transition_case(student_case, by=world["coordinator"], to="not_selected")
    lifecycle.transition_case(
        student_case, by=world["coordinator"], to="not_selected", reason="기준 미달"
    )
    assert Decision.objects.get(case=student_case).decision == "not_select"
    assert (
        intake.open_case(by=world["coordinator"], student=student, difficulties=[]).pk
        != student_case.pk
    )


def test_invalid_transition_is_a_conflict(world, student_case):
    with pytest.raises(GuardFailed):
        lifecycle.transition_case(student_case, by=world["coordinator"], to="active")


@pytest.mark.parametrize("username", ["vice", "teacher", "casemanager", "partner"])
def test_transition_needs_manage_permission(world, student_case, username):
    with pytest.raises(PermissionDenied):
        lifecycle.transition_case(student_case, by=world[username], to="reviewing")


def test_stale_version_is_refused(world, student_case):
    lifecycle.transition_case(student_case, by=world["coordinator"], to="reviewing", version=1)
    with pytest.raises(StaleVersion):
        lifecycle.transition_case(
            student_case, by=world["coordinator"], to="closed", version=1, closure_reason="other"
        )
    with pytest.raises(StaleVersion):
        records.update_case(student_case, by=world["coordinator"], version=1, risk_level="crisis")
    student_case = records.update_case(
        student_case, by=world["coordinator"], version=2, risk_level="crisis"
    )
    assert student_case.version == 3 and student_case.risk_level == "crisis"


# --- Plans ----------------------------------------------------------------------------------


def test_only_the_principal_approves_and_the_old_plan_is_superseded(world, student_case):
    student_case = select_case(world, student_case)
    first = approved_plan(world, student_case)
    second = planning.create_plan(
        student_case,
        by=world["coordinator"],
        goals=["새 목표"],
        starts_on=TODAY(),
        review_on=TODAY(),
    )
    assert second.sequence == 2
    planning.submit_plan(second, by=world["coordinator"])
    with pytest.raises(PermissionDenied):
        planning.approve_plan(second, by=world["coordinator"])
    assert Notification.objects.filter(recipient=world["principal"], kind="plan_submitted").exists()
    planning.approve_plan(second, by=world["principal"])
    first.refresh_from_db()
    assert first.status == SupportPlan.Status.SUPERSEDED
    student_case.refresh_from_db()
    assert student_case.review_due_on == second.review_on


def test_plan_edits_use_optimistic_locking_and_only_drafts_change(world, student_case):
    student_case = select_case(world, student_case)
    plan = planning.create_plan(
        student_case, by=world["coordinator"], goals=["a"], starts_on=TODAY(), review_on=TODAY()
    )
    plan = planning.update_plan(plan, by=world["coordinator"], version=1, goals=["b"])
    with pytest.raises(StaleVersion):
        planning.update_plan(plan, by=world["coordinator"], version=1, goals=["c"])
    planning.submit_plan(plan, by=world["coordinator"])
    with pytest.raises(GuardFailed):
        planning.update_plan(plan, by=world["coordinator"], version=None, goals=["c"])
    returned = planning.return_plan(plan, by=world["principal"], reason="목표를 구체적으로")
    assert returned.status == SupportPlan.Status.DRAFT


def test_plan_needs_goals_and_a_sane_period(world, student_case):
    student_case = select_case(world, student_case)
    with pytest.raises(ValidationError):
        planning.create_plan(
            student_case, by=world["coordinator"], goals=[" "], starts_on=TODAY(), review_on=TODAY()
        )
    with pytest.raises(ValidationError):
        planning.create_plan(
            student_case,
            by=world["coordinator"],
            goals=["a"],
            starts_on=TODAY(),
            review_on=TODAY() - timedelta(days=1),
        )


def test_interventions_and_service_logs(world, student_case):
    student_case = select_case(world, student_case)
    plan = approved_plan(world, student_case)
    intervention = planning.add_intervention(
        plan,
        by=world["coordinator"],
        domain="counselling",
        support_type="counselling",
        responsible=world["counselor"],
        frequency="주 1회",
    )
    team.add_team_member(
        student_case, by=world["coordinator"], user=world["counselor"], role="counsellor"
    )
    log = planning.log_service(
        intervention, by=world["counselor"], occurred_on=TODAY(), duration_minutes=40
    )
    intervention.refresh_from_db()
    assert intervention.status == "ongoing" and log.recorded_by == world["counselor"]
    with pytest.raises(ValidationError):
        planning.log_service(
            intervention, by=world["counselor"], occurred_on=TODAY() + timedelta(days=1)
        )


# --- Team, notes, assessments ----------------------------------------------------------------


def test_team_member_gains_and_loses_access(world, student_case):
    team.add_team_member(
        student_case, by=world["coordinator"], user=world["teacher"], role="homeroom_teacher"
    )
    assert list(access.visible_cases(world["teacher"])) == [student_case]
    assert Notification.objects.filter(recipient=world["teacher"], kind="team_added").exists()
    with pytest.raises(GuardFailed):
        team.add_team_member(
            student_case, by=world["coordinator"], user=world["teacher"], role="other"
        )
    team.remove_team_member(student_case, by=world["coordinator"], user=world["teacher"])
    assert not access.visible_cases(world["teacher"]).exists()


def test_outsider_cannot_join_team(world, student_case):
    with pytest.raises(ValidationError):
        team.add_team_member(
            student_case, by=world["coordinator"], user=world["partner"], role="other"
        )


def test_restricted_notes_visibility(world, student_case):
    team.add_team_member(
        student_case, by=world["coordinator"], user=world["counselor"], role="counsellor"
    )
    team.add_team_member(
        student_case, by=world["coordinator"], user=world["teacher"], role="homeroom_teacher"
    )
    access.grant_case_to_lead_office(student_case, world.nambu)
    restricted = records.add_note(
        student_case,
        by=world["counselor"],
        kind="counselling",
        body="비공개",
        confidentiality="restricted",
    )
    shared = records.add_note(student_case, by=world["teacher"], kind="observation", body="관찰")

    def seen(username):
        return set(access.visible_notes(world[username], student_case))

    assert seen("counselor") == {restricted, shared}
    assert seen("coordinator") == {restricted, shared}
    assert seen("teacher") == {shared}
    assert seen("casemanager") == {shared}  # lead office: never restricted notes
    assert seen("principal") == {shared}
    assert seen("coordinator2") == set()


def test_notes_are_append_only_and_corrected_by_amendment(world, student_case):
    note = records.add_note(student_case, by=world["coordinator"], kind="call", body="통화")
    note.body = "고침"
    with pytest.raises(ValidationError):
        note.save()
    amendment = records.add_note(
        student_case, by=world["coordinator"], kind="call", body="정정: 통화 시각", amends=note
    )
    assert list(Note.objects.get(pk=note.pk).amendments.all()) == [amendment]


def test_assessment_scores_and_levels(world, student_case):
    from casework import instruments

    codes = [i["code"] for i in instruments.items(instruments.instruments()["needs_checklist"])]
    answers = dict.fromkeys(codes, 1)
    assessment = records.record_assessment(
        student_case, by=world["coordinator"], instrument="needs_checklist", answers=answers
    )
    assert assessment.score == len(codes) and assessment.level == "moderate"
    answers["counselling_safety"] = 3
    critical = records.record_assessment(
        student_case, by=world["coordinator"], instrument="needs_checklist", answers=answers
    )
    assert critical.level == "very_high"
    with pytest.raises(ValidationError):
        records.record_assessment(
            student_case,
            by=world["coordinator"],
            instrument="needs_checklist",
            answers={codes[0]: 1},
        )
    with pytest.raises(ValidationError):
        records.record_assessment(
            student_case, by=world["coordinator"], instrument="nope", answers={}
        )


def test_every_transition_is_in_history_with_actor_and_reason(world, student_case):
    student_case = select_case(world, student_case)
    rows = list(Case.history.filter(id=student_case.pk).order_by("history_date"))
    statuses = [r.status for r in rows]
    assert statuses[0] == "identified" and statuses[-1] == "selected"
    last = rows[-1]
    assert last.history_user == world["vice"]
    assert "정서 지원 필요" in last.history_change_reason


def test_a_foreign_meeting_cannot_decide_a_case(world, student_case):
    lifecycle.transition_case(student_case, by=world["coordinator"], to="reviewing")
    with pytest.raises(PermissionDenied):
        lifecycle.record_meeting(
            by=world["coordinator2"],
            organization=world.other_school,
            kind="school_team",
            held_on=TODAY(),
            decisions=[{"case": student_case, "decision": "select", "reasons": "r"}],
        )
    with pytest.raises(PermissionDenied):
        lifecycle.record_meeting(
            by=world["coordinator2"], organization=world.school, kind="school_team", held_on=TODAY()
        )
    student_case.refresh_from_db()
    assert student_case.status == "reviewing"
