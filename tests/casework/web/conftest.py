"""Fixtures of the referral pages: a partner service the referral form finds, and a case ready
to refer to it."""

import pytest

from casework.workflows import intake
from tests.builders import NON_SENSITIVE, consent
from tests.factories import AgreementFactory, ServiceFactory, StudentFactory


@pytest.fixture
def directory_net(world):
    """The province's agreement with the youth counselling centre (non-sensitive fields) and its
    counselling service, listed for 금천구 so that the referral form finds it."""
    world.agreement = AgreementFactory(
        office=world.province, partner=world.partner_org, allowed_fields=NON_SENSITIVE
    )
    world.service = ServiceFactory(
        organization=world.partner_org, name="청소년 개인상담", domains=["counselling"]
    )
    world.service.boroughs.add(world.borough)
    return world


@pytest.fixture
def referable_case(directory_net):
    """윤바다's case, with both consents to share with partners: ready to refer. The guardian's
    consent is `directory_net.guardian_consent`."""
    net = directory_net
    student = StudentFactory(school=net.school, name="윤바다", home_borough=net.borough)
    case = intake.open_case(by=net["coordinator"], student=student, difficulties=["psychological"])
    consent(net, case, "student")
    net.guardian_consent = consent(net, case, "guardian")
    return case
