"""Selectors: the work queue, concerns, history and timeline, with bounded queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework import access, audit, selectors
from casework.workflows import intake, lifecycle, planning, records
from tests.builders import approved_plan, consent_both, select_case
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db


def make_cases(world, n):
    cases = []
    for i in range(n):
        student = StudentFactory(school=world.school)
        intake.raise_concern(by=world["teacher"], student=student, difficulties=["economic"])
        case = intake.open_case(by=world["coordinator"], student=student, difficulties=["health"])
        if i % 2 == 0:
            case = select_case(world, case)
        cases.append(case)
    return cases


def test_work_queue_lists_the_most_urgent_concern_first(world):
    for urgency in ("normal", "urgent", "high"):
        intake.raise_concern(
            by=world["teacher"],
            student=StudentFactory(school=world.school),
            difficulties=["health"],
            urgency=urgency,
        )
    queue = selectors.work_queue(world["coordinator"])
    assert [c.urgency for c in queue.new_concerns] == ["urgent", "high", "normal"]


def test_work_queue_lists_each_kind_of_work(world):
    cases = make_cases(world, 3)
    selected = cases[0]
    plan = planning.create_plan(
        selected,
        by=world["coordinator"],
        goals=["g"],
        starts_on=timezone.localdate(),
        review_on=timezone.localdate(),
    )
    planning.submit_plan(plan, by=world["coordinator"])
    active = cases[2]
    consent_both(world, active)
    approved_plan(world, active)
    active.refresh_from_db()
    active = lifecycle.transition_case(active, by=world["coordinator"], to="active")
    records.update_case(
        active,
        by=world["coordinator"],
        version=active.version,
        review_due_on=timezone.localdate() + timedelta(days=3),
    )

    queue = selectors.work_queue(world["coordinator"])
    assert len(queue.new_concerns) == 3
    assert selected in queue.consents_missing and active not in queue.consents_missing
    assert [p.pk for p in queue.plans_awaiting_approval] == [plan.pk]
    assert [c.pk for c in queue.reviews_due] == [active.pk]

    principal_queue = selectors.work_queue(world["principal"])
    assert principal_queue.new_concerns == []
    assert [p.pk for p in principal_queue.plans_awaiting_approval] == [plan.pk]
    assert selectors.work_queue(world["coordinator2"]).total == 0


def test_work_queue_queries_do_not_grow_with_data(world, django_assert_max_num_queries):
    make_cases(world, 2)
    with django_assert_max_num_queries(8):
        selectors.work_queue(world["coordinator"])
    make_cases(world, 6)
    with django_assert_max_num_queries(8):
        selectors.work_queue(world["coordinator"])


def test_concerns_teacher_sees_own_coordinator_sees_school(world):
    student = StudentFactory(school=world.school)
    mine = intake.raise_concern(by=world["teacher"], student=student, difficulties=["health"])
    theirs = intake.raise_concern(by=world["counselor"], student=student, difficulties=["health"])
    assert list(selectors.visible_concerns(world["teacher"])) == [mine]
    assert set(selectors.visible_concerns(world["coordinator"])) == {mine, theirs}
    assert not selectors.visible_concerns(world["coordinator2"]).exists()
    assert not selectors.visible_concerns(world["partner"]).exists()


def test_case_list_filters(world):
    cases = make_cases(world, 4)
    found = selectors.case_list(world["coordinator"], status="selected")
    assert {c.pk for c in found} == {cases[0].pk, cases[2].pk}
    assert selectors.case_list(world["coordinator"], q=cases[1].student.name).get() == cases[1]
    assert selectors.case_list(world["coordinator"], difficulty="health").count() == 4
    assert selectors.case_list(world["coordinator"], difficulty="economic").count() == 0
    assert not selectors.case_list(world["coordinator2"]).exists()


def test_roster_only_for_teachers(world):
    student = StudentFactory(school=world.school)
    assert access.is_roster_only(world["teacher"], student)
    assert not access.is_roster_only(world["coordinator"], student)


def test_history_shows_field_changes_with_actor_and_reason(world):
    case = make_cases(world, 1)[0]
    records.update_case(
        case, by=world["coordinator"], version=case.version, risk_level="crisis", reason="위기 상향"
    )
    history = audit.case_history(case)
    latest = history[0]
    assert latest.source == "case" and latest.reason == "위기 상향"
    assert [(c.field, c.old, c.new) for c in latest.changes] == [("risk_level", "watch", "crisis")]
    assert latest.user_name == str(world["coordinator"])
    assert any(h.source == "decision" and h.action == "created" for h in history)


def test_timeline_merges_history_referrals_and_access(world):
    from tests.factories import ReferralFactory

    case = make_cases(world, 1)[0]
    ReferralFactory(case=case, to_organization=world.partner_org)
    audit.record_access(world["coordinator"], "view", "case", [case], case=case)
    kinds = {entry.kind for entry in audit.case_timeline(case)}
    assert kinds == {"history", "referral", "access"}
    timeline = audit.case_timeline(case)
    assert timeline == sorted(timeline, key=lambda e: e.at, reverse=True)
    assert {e.kind for e in audit.case_timeline(case, include_access=False)} == {
        "history",
        "referral",
    }


def test_review_due_window(world):
    case = make_cases(world, 1)[0]
    consent_both(world, case)
    plan = approved_plan(world, case)
    case.refresh_from_db()
    lifecycle.transition_case(case, by=world["coordinator"], to="active")
    case.refresh_from_db()
    records.update_case(
        case,
        by=world["coordinator"],
        version=case.version,
        review_due_on=timezone.localdate() + timedelta(days=30),
    )
    assert selectors.work_queue(world["coordinator"]).reviews_due == []
    assert plan.status == "approved"
