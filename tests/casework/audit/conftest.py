"""Fixtures of the access-log tests: a case row to read and three reads of it."""

import pytest

from casework.audit import record_access
from tests.factories import CaseFactory


@pytest.fixture
def ungranted_case(world):
    """A case of 이음초등학교 made by the factory; nobody holds a grant on it."""
    return CaseFactory(owner=world.school, lead=world.school)


@pytest.fixture
def events(world, ungranted_case):
    """The coordinator views and lists the case, the principal views its student."""
    case = ungranted_case
    return [
        record_access(world["coordinator"], "view", "case", [case], case=case),
        record_access(world["coordinator"], "list", "case", [case, case.student]),
        record_access(world["principal"], "view", "student", [case.student], student=case.student),
    ]
