"""The next step of a case as a checklist: each guard of the step forward, held or not, from the
same tests the transition refuses on; and the transitions that can succeed now."""

import pytest

from casework.workflows import lifecycle, referrals
from tests.builders import approved_plan, consent_both, select_case, service_referral

pytestmark = pytest.mark.django_db


def kinds(case):
    return {check.kind: check.done for check in lifecycle.checklist(case)}


def offered(case):
    return {o.to: o for o in lifecycle.options(case, lifecycle.checklist(case))}


def test_a_new_case_goes_to_review_with_nothing_to_check(world, case):
    assert lifecycle.checklist(case) == []
    assert set(offered(case)) == {"reviewing", "closed"}


def test_review_waits_for_the_meetings_selection_decision(world, case):
    lifecycle.transition_case(case, by=world["coordinator"], to="reviewing")
    case.refresh_from_db()
    assert kinds(case) == {"decision": False}
    # Not selecting and closing stay; selecting is not offered without the decision.
    assert set(offered(case)) == {"not_selected", "closed"}


def test_a_selected_case_lists_both_consents_and_the_approved_plan(world, case):
    case = select_case(world, case)
    assert kinds(case) == {"student_consent": False, "guardian_consent": False, "plan": False}
    assert set(offered(case)) == {"closed"}
    consent_both(world, case)
    assert kinds(case) == {"student_consent": True, "guardian_consent": True, "plan": False}
    approved_plan(world, case)
    assert all(kinds(case).values())
    assert offered(case)["active"].forward
    # The checklist is the guard's own: what it lists is what the transition asks for.
    assert lifecycle.missing_for_activation(case) == []


def test_missing_activation_items_are_the_unticked_lines(world, case):
    case = select_case(world, case)
    consent_both(world, case)
    labels = [c.label for c in lifecycle.checklist(case) if not c.done]
    assert labels == lifecycle.missing_for_activation(case) == ["승인된 지원 계획"]


def test_closing_is_shown_with_its_reason_while_a_referral_is_open(net, consented):
    referral = referrals.send_referral(service_referral(net, consented), by=net["coordinator"])
    closing = offered(consented)["closed"]
    assert closing.blocked == "진행 중인 의뢰가 있어 종결할 수 없습니다."
    # From a list the caller already has, without asking the database again.
    listed = lifecycle.options(consented, [], referrals=[referral])
    assert next(o for o in listed if o.to == "closed").blocked
