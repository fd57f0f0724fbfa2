"""Shared fixtures. `world` builds a small network shaped like the demo (DEMO.md): one member per
demo role, each named by the demo username, plus a foreign school, district and partner."""

import shutil
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import connection

from partners.choices import Role
from partners.models import Organization, User
from tests import factories


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _service_skips() -> dict[str, str]:
    """Why tests marked `redis` (the shared Redis, tests/settings.py) or `redis_server` (their
    own redis-server process) cannot run on this machine; empty when they can."""
    skips = {}
    if not settings.TEST_REDIS_URL:
        skips["redis"] = f"needs Redis ({settings.TEST_REDIS_SOURCE})"
    if shutil.which("redis-server") is None:
        skips["redis_server"] = "needs the redis-server binary on PATH"
    return skips


# Service skips applied in this run (reason -> number of tests), for the final summary.
_service_skipped: dict[str, int] = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "redis: a real Celery worker on the test Redis")
    config.addinivalue_line("markers", "redis_server: starts and stops its own redis-server")


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    line = f"ieum test database: {db} ({getattr(settings, 'TEST_DATABASE_SOURCE', '?')})"
    if db != "postgresql":
        return line + " -- PostgreSQL-only and worker tests are SKIPPED on this run"
    lines = [line]
    skips = _service_skips()
    if "redis" in skips:
        lines.append(f"ieum worker tests: SKIPPED -- {skips['redis']}")
    else:
        lines.append(f"ieum worker tests: {settings.TEST_REDIS_URL} ({settings.TEST_REDIS_SOURCE})")
    if "redis_server" in skips:
        lines.append(f"ieum broker-outage test: SKIPPED -- {skips['redis_server']}")
    else:
        lines.append(f"ieum broker-outage test: its own {shutil.which('redis-server')}")
    return lines


def pytest_collection_modifyitems(config, items):
    if not _on_postgres():
        skip = pytest.mark.skip(reason="needs PostgreSQL (this run uses SQLite)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)
        return
    for marker, reason in _service_skips().items():
        for item in items:
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))
                _service_skipped[reason] = _service_skipped.get(reason, 0) + 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _on_postgres():
        terminalreporter.write_line(
            "NOTE: ran on SQLite; PostgreSQL-only and worker tests were skipped.", yellow=True
        )
        return
    for reason, count in sorted(_service_skipped.items()):
        terminalreporter.write_line(f"NOTE: {count} worker test(s) skipped: {reason}.", yellow=True)


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
