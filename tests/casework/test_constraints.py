"""Invariants the database itself enforces, whatever code path writes."""

import pytest
from django.db import IntegrityError, transaction

from tests.factories import CaseFactory, StudentFactory

pytestmark = pytest.mark.django_db


def test_database_refuses_a_second_open_case_for_a_student(world):
    student = StudentFactory(school=world.school)
    CaseFactory(owner=world.school, student=student, status="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFactory(owner=world.school, student=student, status="identified")
    CaseFactory(owner=world.school, student=student, status="closed", closure_reason="other")
    CaseFactory(owner=world.school, student=student, status="not_selected")


def test_database_refuses_a_closed_case_without_reason(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFactory(owner=world.school, status="closed", closure_reason="")


def test_database_refuses_two_approved_plans(world):
    from django.utils import timezone

    from casework.models import SupportPlan

    case = CaseFactory(owner=world.school)
    today = timezone.localdate()
    common = {
        "case": case,
        "starts_on": today,
        "review_on": today,
        "created_by": world["coordinator"],
    }
    SupportPlan.objects.create(sequence=1, status="approved", **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        SupportPlan.objects.create(sequence=2, status="approved", **common)
