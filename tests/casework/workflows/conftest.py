"""Fixtures of the workflow tests: 김하늘's case, whose guardian is on file, and the same case once
both have consented to sharing with partners."""

import pytest

from casework.workflows import intake
from tests.builders import consent
from tests.factories import StudentFactory


@pytest.fixture
def case(world):
    """김하늘's case at 이음초등학교 (she lives in 금천구; her mother 김보호 is on file)."""
    student = StudentFactory(school=world.school, name="김하늘", home_borough=world.borough)
    student.guardians.create(name="김보호", relation="모", phone="010-1234-5678")
    return intake.open_case(
        by=world["coordinator"], student=student, difficulties=["psychological"], summary="s"
    )


@pytest.fixture
def consented(net, case):
    """The case once the student and the guardian consented to sharing with partners; the
    guardian's consent is `net.guardian_consent`."""
    consent(net, case, "student")
    net.guardian_consent = consent(net, case, "guardian")
    return case
