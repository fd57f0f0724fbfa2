"""Fixtures of the casework tests: the referral network on top of the `world`, a case opened the
way the coordinator opens one, and e-mail kept in memory."""

import pytest

from casework.workflows import intake
from tests.builders import NON_SENSITIVE
from tests.factories import AgreementFactory, ServiceFactory, StudentFactory


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
def opened_case(world):
    """정다온's case at 이음초등학교, opened by the coordinator for economic difficulties."""
    student = StudentFactory(school=world.school, name="정다온")
    return intake.open_case(by=world["coordinator"], student=student, difficulties=["economic"])


@pytest.fixture
def locmem_email(settings):
    """E-mail goes to Django's in-memory outbox (`mail.outbox`)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
