"""Shared fixtures. `world` builds a small network shaped like the demo (DEMO.md): one member per
demo role, each named by the demo username, plus a foreign school, district and partner.
`granted_case` and `school_objects` build on it for the tests of several folders; the fixtures
of one folder live in its own conftest.py, the plain helpers in tests/builders.py."""

import shutil
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from casework import access
from casework.models import Job, Notification
from casework.workflows import intake, lifecycle, planning, records, referrals, transfers
from partners.choices import Role
from partners.models import Organization, User
from tests import factories


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
    db = settings.DATABASES["default"]
    server = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    lines = [f"ieum test database: PostgreSQL at {server} ({settings.TEST_DATABASE_SOURCE})"]
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
    for marker, reason in _service_skips().items():
        for item in items:
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))
                _service_skipped[reason] = _service_skipped.get(reason, 0) + 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for reason, count in sorted(_service_skipped.items()):
        terminalreporter.write_line(f"NOTE: {count} worker test(s) skipped: {reason}.", yellow=True)


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


@pytest.fixture
def granted_case(world):
    """A case of 이음초등학교 made by the factory, granted to its school (no workflow ran)."""
    case = factories.CaseFactory(owner=world.school, lead=world.school)
    access.grant_case_to_owner_school(case)
    return case


@pytest.fixture
def school_objects(world):
    """One of each object of 이음초등학교 the isolation matrix (tests/access/matrix.py) points at,
    foreign to every role but its coordinator: a case under review with a draft plan and an
    intervention, an open concern, the coordinator's notification, a job, a consent, a sent
    referral, a transfer request and a claim by 한빛초등학교 that matches the case."""
    today = timezone.localdate()
    world.case = intake.open_case(
        by=world["coordinator"],
        student=factories.StudentFactory(school=world.school),
        difficulties=[],
    )
    world.case = lifecycle.transition_case(world.case, by=world["coordinator"], to="reviewing")
    world.plan = planning.create_plan(
        world.case,
        by=world["coordinator"],
        goals=["g"],
        starts_on=today,
        review_on=today + timedelta(days=30),
    )
    world.intervention = planning.add_intervention(
        world.plan, by=world["coordinator"], domain="counselling", support_type="counselling"
    )
    world.concern = intake.raise_concern(
        by=world["teacher"],
        student=factories.StudentFactory(school=world.school),
        difficulties=["health"],
    )
    world.notification = Notification.objects.filter(recipient=world["coordinator"]).first()
    world.job = Job.objects.create(
        kind="roster_import", created_by=world["coordinator"], organization=world.school
    )
    factories.AgreementFactory(
        office=world.province,
        partner=world.partner_org,
        allowed_fields=["student_name", "grade", "reason"],
    )
    world.consent = records.record_consent(
        world.case,
        by=world["coordinator"],
        subject="student",
        purposes=["support"],
        method="written",
        given_on=today,
    )
    world.referral = referrals.send_referral(
        referrals.create_referral(
            world.case,
            by=world["coordinator"],
            kind="service",
            to_organization=world.partner_org,
            reason="상담 연계",
            shared_fields=["student_name", "grade"],
            legal_basis="emergency",
            justification="자해 위험",
        ),
        by=world["coordinator"],
    )
    world.transfer = transfers.request_transfer(
        world.case, by=world["coordinator"], to_school=world.other_school, reason="전학"
    )
    student = world.case.student
    student.neis_id = "N-0001"
    student.save()
    world.claim = transfers.claim_transfer(
        by=world["coordinator2"],
        neis_id="N-0001",
        student_name=student.name,
        birth_date=student.birth_date,
        reason="전학 옴",
    )
    assert world.claim.case_id == world.case.pk
    return world
