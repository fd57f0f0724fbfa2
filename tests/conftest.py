"""Shared fixtures. `world` builds a small network shaped like the demo (DEMO.md): one member per
demo role, each named by the demo username, plus a foreign school, district and partner."""

from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import connection

from partners.choices import Role
from partners.models import Organization, User
from tests import factories


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    line = f"ieum test database: {db} ({getattr(settings, 'TEST_DATABASE_SOURCE', '?')})"
    if db != "postgresql":
        line += " -- PostgreSQL-only and worker tests are SKIPPED on this run"
    return line


def pytest_collection_modifyitems(config, items):
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (this run uses SQLite)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        terminalreporter.write_line(
            "NOTE: ran on SQLite; PostgreSQL-only and worker tests were skipped.", yellow=True
        )


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@dataclass
class World:
    province: Organization
    nambu: Organization  # 남부교육지원청, covers the home borough
    bukbu: Organization  # 북부교육지원청, the foreign district
    borough: Organization  # 금천구
    school: Organization  # 이음초등학교
    other_school: Organization  # 한빛초등학교 (under 북부)
    partner_org: Organization  # 금천구청소년상담복지센터
    other_partner_org: Organization  # 금천구정신건강복지센터
    users: dict[str, User] = field(default_factory=dict)

    def __getitem__(self, username: str) -> User:
        return self.users[username]


@pytest.fixture
def world(db) -> World:
    f = factories
    province = f.ProvincialOfficeFactory(code="B10", name="서울특별시교육청")
    borough = f.BoroughFactory(code="LG-11545", name="금천구", region_code="11545")
    nambu = f.DistrictOfficeFactory(
        code="B10-NAMBU", name="서울특별시남부교육지원청", parent=province
    )
    nambu.covers.add(borough)
    bukbu = f.DistrictOfficeFactory(
        code="B10-BUKBU", name="서울특별시북부교육지원청", parent=province
    )
    school = f.SchoolFactory(code="S0001", name="이음초등학교", parent=nambu, region_code="11545")
    other_school = f.SchoolFactory(code="S0003", name="한빛초등학교", parent=bukbu)
    partner_org = f.OrganizationFactory(
        code="P-YOUTH", name="금천구청소년상담복지센터", agency_type="youth_counselling"
    )
    other_partner_org = f.OrganizationFactory(
        code="P-MENTAL", name="금천구정신건강복지센터", agency_type="mental_health"
    )
    for org in (partner_org, other_partner_org):
        org.serves.add(borough)
    w = World(province, nambu, bukbu, borough, school, other_school, partner_org, other_partner_org)
    roster = [
        ("teacher", school, Role.TEACHER),
        ("counselor", school, Role.TEAM_MEMBER),
        ("coordinator", school, Role.COORDINATOR),
        ("vice", school, Role.VICE_PRINCIPAL),
        ("principal", school, Role.PRINCIPAL),
        ("coordinator2", other_school, Role.COORDINATOR),
        ("casemanager", nambu, Role.CASE_MANAGER),
        ("centrehead", nambu, Role.CENTRE_HEAD),
        ("casemanager2", bukbu, Role.CASE_MANAGER),
        ("partner", partner_org, Role.PARTNER_WORKER),
        ("partner2", other_partner_org, Role.PARTNER_WORKER),
        ("analyst", province, Role.ANALYST),
        ("privacy", province, Role.PRIVACY_OFFICER),
    ]
    for username, org, role in roster:
        user = f.UserFactory(username=username)
        f.MembershipFactory(user=user, organization=org, role=role)
        w.users[username] = user
    w.users["admin"] = f.UserFactory(username="admin", is_staff=True, is_superuser=True)
    return w
