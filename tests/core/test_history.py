"""core.history: simple-history with its manager class made once per model."""

import pytest

from casework.models import Case
from partners.models import Organization
from tests.factories import CaseFactory


def test_reading_history_does_not_make_a_new_manager_class():
    assert type(Case.history) is type(Case.history)
    assert type(Organization.history) is type(Organization.history)
    assert Case.history.model is not Organization.history.model  # one class, bound per model


@pytest.mark.django_db
def test_history_rows_are_still_written_for_the_instance(world):
    case = CaseFactory(owner=world.school, lead=world.school)
    case.summary = "바뀐 요약"
    case._history_user = world["coordinator"]
    case.save()
    assert list(case.history.values_list("history_type", flat=True)) == ["~", "+"]
    assert case.history.first().history_user == world["coordinator"]
    assert case.history.first().summary == "바뀐 요약"
