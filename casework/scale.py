"""Synthetic data at scale (`manage.py seed_scale`, DESIGN.md §8), loaded with PostgreSQL COPY.

On top of the real network (`seed_network`) it builds fictional schools, staff, partners,
students, open and several years of closed cases, referrals in every state, notes, consents,
concerns, notifications, history rows and hash-chained access events — with the grants the
workflows would have written (guardian's direct-FK tables). Deterministic: the same tier and
seed give the same data. Rows go in through `COPY … FROM STDIN` in chunks; small tables
(groups, role groups, organisations) through the ORM.

The bench accounts are named `<organisation code>.<role>[.<n>]` and share BENCH_PASSWORD.
"""

import io
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.utils import timezone

from partners.catalogue import non_sensitive_field_codes
from partners.choices import OrganizationKind, Role
from partners.models import Agreement, Membership, Organization, RoleGroup, Service, User

from . import audit
from .access.roles import LEAD_OFFICE_GRANTS, OWNER_SCHOOL_GRANTS, REFERRAL_PERMISSIONS
from .bulk import Copier, copy_text, hist
from .demo import GIVEN  # the same fictional given names as the demo
from .models import (
    AccessChainHead,
    AccessEvent,
    Case,
    CaseGroupObjectPermission,
    CaseMember,
    CaseParticipant,
    Concern,
    Consent,
    Guardian,
    Note,
    Notification,
    Referral,
    ReferralGroupObjectPermission,
    Student,
)

SEOUL_DISTRICTS = (
    "B10-DONGBU",
    "B10-SEOBU",
    "B10-NAMBU",
    "B10-BUKBU",
    "B10-JUNGBU",
    "B10-GANGNAMSEOCHO",
    "B10-GANGDONGSONGPA",
    "B10-GANGSEOYANGCHEON",
    "B10-DONGJAKGWANAK",
    "B10-SEONGDONGGWANGJIN",
    "B10-SEONGBUKGANGBUK",
)


@dataclass(frozen=True)
class Tier:
    name: str
    districts: int  # how many of Seoul's district offices take part
    schools: int
    students: int
    open_cases: int
    closed_cases: int  # closed over the previous three years
    referrals: int  # one year's worth
    access_events: int
    teachers_per_school: int = 10
    case_managers_per_district: int = 6
    partners_per_borough: int = 4
    notes_per_case: int = 3


TIERS = {
    "tiny": Tier("tiny", 1, 4, 400, 40, 30, 60, 400, teachers_per_school=2, partners_per_borough=2),
    "district": Tier("district", 1, 120, 75_000, 7_000, 10_500, 13_000, 100_000),
    "seoul": Tier("seoul", 11, 1_350, 830_000, 80_000, 120_000, 150_000, 1_000_000),
}

SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍전고문양손배백허유남심노하곽성차주우구민"
DIFFICULTIES = [
    ["basic_learning"],
    ["economic", "care_safety"],
    ["psychological"],
    ["school_violence", "psychological"],
    ["borderline_intelligence", "basic_learning"],
    ["health"],
    ["dropout_risk", "psychological"],
    ["migrant_background", "basic_learning"],
    ["child_abuse", "care_safety"],
]
OPEN_STATUS_MIX = [
    ("identified", 10),
    ("reviewing", 15),
    ("selected", 15),
    ("active", 40),
    ("monitoring", 20),
]
REFERRAL_MIX = [
    ("draft", 3),
    ("sent", 8),
    ("received", 7),
    ("accepted", 10),
    ("in_progress", 22),
    ("completed", 40),
    ("declined", 5),
    ("cancelled", 5),
]
PARTNER_TYPES = [
    "youth_counselling",
    "mental_health",
    "child_protection",
    "dream_start",
    "community_child",
    "welfare_center",
]
CLOSED = ("completed", "declined", "cancelled")


def weighted(rng: random.Random, mix) -> str:
    return rng.choices([k for k, _w in mix], weights=[w for _k, w in mix])[0]


# --- The generator ---------------------------------------------------------------------------


@dataclass
class Staff:
    coordinator: uuid.UUID
    principal: uuid.UUID
    vice: uuid.UUID
    teachers: list[uuid.UUID] = field(default_factory=list)


@dataclass
class Result:
    tier: str
    counts: dict[str, int]
    seconds: float
    copy_seconds: float

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


class ScaleSeeder:
    def __init__(self, tier: Tier, *, seed: int = 2026, password: str, progress=None):
        self.tier = tier
        self.rng = random.Random(seed)
        self.today = timezone.localdate()
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.copier = Copier(self.now)
        self.password_hash = make_password(password)
        self.progress = progress or (lambda message: None)
        self.uuid_rng = random.Random(seed + 1)

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.uuid_rng.getrandbits(128), version=4)

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago, seconds=self.rng.randint(0, 36_000))

    # -- network ---------------------------------------------------------------------------

    def _groups(self, pairs: list[tuple[Organization, str]]) -> dict[tuple, int]:
        """Role groups for (organisation, role) pairs, created in bulk."""
        names = {RoleGroup.group_name(org, role): (org, role) for org, role in pairs}
        existing = dict(Group.objects.filter(name__in=names).values_list("name", "id"))
        Group.objects.bulk_create(
            [Group(name=n) for n in names if n not in existing], batch_size=5000
        )
        ids = dict(Group.objects.filter(name__in=names).values_list("name", "id"))
        have = set(
            RoleGroup.objects.filter(group_id__in=ids.values()).values_list("group_id", flat=True)
        )
        from simple_history.utils import bulk_create_with_history

        bulk_create_with_history(
            [
                RoleGroup(group_id=ids[n], organization=org, role=role)
                for n, (org, role) in names.items()
                if ids[n] not in have
            ],
            RoleGroup,
            batch_size=5000,
            default_change_reason="seed_scale",
        )
        return {(org.pk, role): ids[n] for n, (org, role) in names.items()}

    def build_network(self):
        t = self.tier
        # One district office's share is 남부 (금천·구로·영등포); the Seoul tier takes all eleven.
        codes = ("B10-NAMBU",) if t.districts == 1 else SEOUL_DISTRICTS[: t.districts]
        districts = list(Organization.objects.filter(code__in=codes).order_by("code"))
        if len(districts) < len(codes):
            raise RuntimeError("the real network is missing: run `manage.py seed_network` first")
        self.province = Organization.objects.get(code="B10")
        self.districts = districts
        boroughs = {d.pk: list(d.covers.all()) for d in districts}
        self.progress(f"network: {len(districts)} district offices")
        # Schools, spread over the districts and their boroughs.
        schools = []
        for i in range(t.schools):
            district = districts[i % len(districts)]
            borough = boroughs[district.pk][i % len(boroughs[district.pk])]
            level = ["elementary", "elementary", "middle", "high"][i % 4]
            schools.append(
                Organization(
                    id=self.uid(),
                    code=f"SC-{t.name[:1].upper()}{i:05d}",
                    name=f"가상{borough.name}{i:05d}{'초등학교' if level == 'elementary' else '중학교' if level == 'middle' else '고등학교'}",
                    kind=OrganizationKind.SCHOOL,
                    parent=district,
                    region_code=borough.region_code,
                    school_level=level,
                )
            )
        # Partners serving each borough, each with a service and an agreement.
        partners, services, agreements = [], [], []
        all_boroughs = [b for bs in boroughs.values() for b in bs]
        for borough in all_boroughs:
            for j in range(t.partners_per_borough):
                agency = PARTNER_TYPES[j % len(PARTNER_TYPES)]
                org = Organization(
                    id=self.uid(),
                    code=f"SP-{t.name[:1].upper()}{borough.region_code}-{j}",
                    name=f"가상{borough.name}{agency}센터",
                    kind=OrganizationKind.PARTNER_AGENCY,
                    agency_type=agency,
                    region_code=borough.region_code,
                )
                partners.append((org, borough))
        from simple_history.utils import bulk_create_with_history

        bulk_create_with_history(
            schools + [p for p, _b in partners],
            Organization,
            batch_size=2000,
            default_change_reason="seed_scale",
        )
        for org, borough in partners:
            org.serves.add(borough)
            services.append(
                Service(
                    id=self.uid(),
                    organization=org,
                    name=f"{org.name} 사례관리",
                    domains=["counselling", "welfare"],
                    support_types=["counselling"],
                )
            )
            agreements.append(
                Agreement(
                    office=self.province,
                    partner=org,
                    valid_from=self.today - timedelta(days=400),
                    security_officer_name="정보보호책임자",
                    allowed_fields=non_sensitive_field_codes(),
                )
            )
        bulk_create_with_history(services, Service, default_change_reason="seed_scale")
        bulk_create_with_history(agreements, Agreement, default_change_reason="seed_scale")
        for service, (_org, borough) in zip(services, partners, strict=True):
            service.boroughs.add(borough)
        self.schools = schools
        self.partners_by_borough: dict[str, list[Organization]] = {}
        for org, borough in partners:
            self.partners_by_borough.setdefault(borough.region_code, []).append(org)
        self.borough_by_code = {b.region_code: b for b in all_boroughs}
        self.progress(f"organisations: {len(schools)} schools, {len(partners)} partners")

    def build_people(self):
        t = self.tier
        pairs = []
        for school in self.schools:
            pairs += [
                (school, r)
                for r in (
                    Role.COORDINATOR,
                    Role.PRINCIPAL,
                    Role.VICE_PRINCIPAL,
                    Role.TEACHER,
                    Role.TEAM_MEMBER,
                )
            ]
        for district in self.districts:
            pairs += [(district, Role.CASE_MANAGER), (district, Role.CENTRE_HEAD)]
        partner_orgs = [p for ps in self.partners_by_borough.values() for p in ps]
        for org in partner_orgs:
            pairs += [(org, Role.PARTNER_WORKER), (org, Role.PARTNER_LEAD)]
        self.groups = self._groups(pairs)
        users, memberships = [], []
        approved = self.today - timedelta(days=30)
        expires = self.today + timedelta(days=335)

        def person(org, role, n=0):
            user_id = self.uid()
            suffix = f".{n}" if n else ""
            users.append(
                {
                    "id": user_id,
                    "password": self.password_hash,
                    "username": f"{org.code.lower()}.{role}{suffix}",
                    "email": f"{org.code.lower()}.{role}{suffix}@scale.ieum.kr",
                    "name": self.name(),
                    "date_joined": self.now,
                }
            )
            memberships.append(
                {
                    "id": self.uid(),
                    "user_id": user_id,
                    "organization_id": org.pk,
                    "role": role,
                    "group_id": self.groups[(org.pk, role)],
                    "started_on": approved,
                    "approved_on": approved,
                    "approval_expires_on": expires,
                    "training_completed_on": approved,
                }
            )
            return user_id

        self.staff: dict[uuid.UUID, Staff] = {}
        for school in self.schools:
            staff = Staff(
                coordinator=person(school, Role.COORDINATOR),
                principal=person(school, Role.PRINCIPAL),
                vice=person(school, Role.VICE_PRINCIPAL),
            )
            person(school, Role.TEAM_MEMBER)
            staff.teachers = [
                person(school, Role.TEACHER, n + 1) for n in range(t.teachers_per_school)
            ]
            self.staff[school.pk] = staff
        self.case_managers: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.centre_heads: dict[uuid.UUID, uuid.UUID] = {}
        for district in self.districts:
            self.centre_heads[district.pk] = person(district, Role.CENTRE_HEAD)
            self.case_managers[district.pk] = [
                person(district, Role.CASE_MANAGER, n + 1)
                for n in range(t.case_managers_per_district)
            ]
        self.partner_workers: dict[uuid.UUID, list[uuid.UUID]] = {}
        for org in partner_orgs:
            person(org, Role.PARTNER_LEAD)
            self.partner_workers[org.pk] = [
                person(org, Role.PARTNER_WORKER, n + 1) for n in range(3)
            ]
        self.copier.copy(User, users, history=lambda r: [hist(self.now, reason="seed_scale")])
        self.copier.copy(
            Membership, memberships, history=lambda r: [hist(self.now, reason="seed_scale")]
        )
        through = User.groups.through
        with connection.cursor() as cursor:
            buf = io.StringIO()
            for m in memberships:
                buf.write(f"{m['user_id']}\t{m['group_id']}\n")
            buf.seek(0)
            cursor.cursor.copy_expert(
                f'COPY "{through._meta.db_table}" (user_id, group_id) FROM STDIN', buf
            )
        self.copier.counts[through._meta.db_table] = len(memberships)
        self.progress(f"people: {len(users)} staff accounts")

    # -- students, cases, referrals --------------------------------------------------------

    def build_students(self):
        t = self.tier
        per_school = t.students // len(self.schools)
        self.students_by_school: dict[uuid.UUID, list[tuple[uuid.UUID, str, int]]] = {}
        guardians = []

        def students():
            for school in self.schools:
                bucket = self.students_by_school.setdefault(school.pk, [])
                for k in range(per_school):
                    sid = self.uid()
                    grade = k % 6 + 1
                    name = self.name()
                    bucket.append((sid, name, grade))
                    guardians.append(
                        {
                            "id": self.uid(),
                            "student_id": sid,
                            "name": self.rng.choice(SURNAMES) + self.rng.choice(GIVEN),
                            "relation": self.rng.choice(["모", "부", "조모"]),
                            "phone": f"010-{self.rng.randint(1000, 9999)}-{self.rng.randint(1000, 9999)}",
                        }
                    )
                    yield {
                        "id": sid,
                        "school_id": school.pk,
                        "name": name,
                        "birth_date": date(
                            self.today.year - 7 - grade,
                            self.rng.randint(1, 12),
                            self.rng.randint(1, 28),
                        ),
                        "sex": "male" if k % 2 else "female",
                        "grade": grade,
                        "class_no": k // 30 % 10 + 1,
                        "number": k % 30 + 1,
                        "neis_id": f"N{school.code}{k:05d}",
                        "multicultural": self.rng.random() < 0.04,
                        "benefit_status": "basic_livelihood" if self.rng.random() < 0.05 else "",
                        "home_borough_id": self.borough_by_code[school.region_code].pk,
                    }

        n = self.copier.copy(
            Student, students(), history=lambda r: [hist(self.at(400), reason="명부 가져오기")]
        )
        self.copier.copy(Guardian, guardians, history=lambda r: [hist(self.at(400))])
        self.progress(f"students: {n} with guardians")

    def build_cases(self):
        t = self.tier
        self.cases: list[dict] = []
        perms = {
            (p.content_type.model, p.codename): p.pk
            for p in Permission.objects.filter(
                content_type__app_label="casework", content_type__model__in=["case", "referral"]
            ).select_related("content_type")
        }
        self.perm = perms
        schools = self.schools
        participants, members, grants, consents, notes, concerns, notifications = (
            [],
            [],
            [],
            [],
            [],
            [],
            [],
        )
        serial: dict[uuid.UUID, int] = {}
        pools = {s.pk: list(self.students_by_school[s.pk]) for s in schools}
        for pool in pools.values():
            self.rng.shuffle(pool)
        total = t.open_cases + t.closed_cases

        def cases():
            for i in range(total):
                school = schools[i % len(schools)]
                pool = pools[school.pk]
                if not pool:
                    continue
                sid, name, _grade = pool.pop()
                staff = self.staff[school.pk]
                is_open = i < t.open_cases
                status = weighted(self.rng, OPEN_STATUS_MIX) if is_open else "closed"
                opened_days = self.rng.randint(5, 300) if is_open else self.rng.randint(100, 1_100)
                opened = self.at(opened_days)
                year = opened.year
                serial[school.pk] = serial.get(school.pk, 0) + 1
                district = school.parent_id
                escalated = (
                    is_open
                    and status in ("selected", "active", "monitoring")
                    and self.rng.random() < 0.12
                )
                case_id = self.uid()
                difficulties = self.rng.choice(DIFFICULTIES)
                row = {
                    "id": case_id,
                    "number": f"{year}-{school.code}-{serial[school.pk]:05d}",
                    "student_id": sid,
                    "owner_id": school.pk,
                    "lead_id": district if escalated else school.pk,
                    "status": status,
                    "risk_level": self.rng.choice(
                        ["watch", "watch", "caution", "caution", "crisis", "urgent"]
                    ),
                    "difficulties": difficulties,
                    "domains": ["counselling"],
                    "summary": "",
                    "coordinator_id": staff.coordinator,
                    "closure_reason": ""
                    if is_open
                    else self.rng.choice(
                        ["goals_met", "goals_met", "transferred_out", "no_longer_needed"]
                    ),
                    "opened_on": opened.date(),
                    "closed_on": None
                    if is_open
                    else (opened + timedelta(days=self.rng.randint(30, 200))).date(),
                    "review_due_on": (self.today + timedelta(days=self.rng.randint(-10, 60)))
                    if status in ("active", "monitoring")
                    else None,
                    "created_at": opened,
                    "updated_at": opened,
                    "_school": school,
                    "_student_name": name,
                    "_escalated": escalated,
                    "_open": is_open,
                }
                self.cases.append(
                    {
                        k: row[k]
                        for k in (
                            "id",
                            "owner_id",
                            "lead_id",
                            "status",
                            "student_id",
                            "_school",
                            "_escalated",
                            "_open",
                            "opened_on",
                            "coordinator_id",
                        )
                    }
                )
                participants.append(
                    {
                        "id": self.uid(),
                        "case_id": case_id,
                        "organization_id": school.pk,
                        "role": "owner",
                        "since": opened,
                    }
                )
                participants.append(
                    {
                        "id": self.uid(),
                        "case_id": case_id,
                        "organization_id": school.pk,
                        "role": "lead",
                        "since": opened,
                        "until": opened + timedelta(days=10) if escalated else None,
                    }
                )
                if escalated:
                    participants.append(
                        {
                            "id": self.uid(),
                            "case_id": case_id,
                            "organization_id": district,
                            "role": "lead",
                            "since": opened + timedelta(days=10),
                        }
                    )
                members.append(
                    {
                        "id": self.uid(),
                        "case_id": case_id,
                        "user_id": staff.coordinator,
                        "role": "coordinator",
                        "added_by_id": staff.coordinator,
                        "added_at": opened,
                    }
                )
                for role, codes in OWNER_SCHOOL_GRANTS.items():
                    for code in codes:
                        grants.append(
                            (self.groups[(school.pk, role)], perms[("case", code)], case_id)
                        )
                if escalated:
                    for role, codes in LEAD_OFFICE_GRANTS.items():
                        for code in codes:
                            grants.append(
                                (self.groups[(district, role)], perms[("case", code)], case_id)
                            )
                # An escalation shares the student's data with the office: it needs both
                # consents too (DESIGN.md §4), recorded before it is sent.
                if status in ("active", "monitoring", "closed") or escalated:
                    for subject in ("student", "guardian"):
                        consents.append(
                            {
                                "id": self.uid(),
                                "case_id": case_id,
                                "subject": subject,
                                "guardian_name": "보호자" if subject == "guardian" else "",
                                "relation": "모" if subject == "guardian" else "",
                                "purposes": ["support", "share_with_office", "share_with_partners"],
                                "recipients": [],
                                "method": "written",
                                "given_on": (opened + timedelta(days=7)).date(),
                                "recorded_by_id": staff.coordinator,
                                "created_at": opened + timedelta(days=7),
                            }
                        )
                        if subject == "guardian":
                            self.cases[-1]["_consent"] = consents[-1]["id"]
                for k in range(t.notes_per_case if is_open else 2):
                    when = opened + timedelta(days=3 * (k + 1))
                    notes.append(
                        {
                            "id": self.uid(),
                            "case_id": case_id,
                            "author_id": staff.coordinator,
                            "kind": self.rng.choice(["observation", "call", "counselling"]),
                            "body": "학생 상황 관찰 및 보호자 통화 기록",
                            "occurred_at": when,
                            "created_at": when,
                            "confidentiality": "restricted" if k == 2 else "team",
                        }
                    )
                if is_open:
                    notifications.append(
                        {
                            "id": self.uid(),
                            "recipient_id": staff.coordinator,
                            "kind": "case_status",
                            "title": f"{row['number']}: {status}",
                            "case_id": case_id,
                            "created_at": self.at(self.rng.randint(0, 30)),
                            "email_status": "sent",
                            "read_at": None if self.rng.random() < 0.3 else self.now,
                        }
                    )
                yield row

        def case_history(row):
            rows = [hist(row["created_at"], "+", "사례 개설", row["coordinator_id"])]
            rows.append(
                {
                    **hist(
                        row["created_at"] + timedelta(days=14),
                        "~",
                        f"identified → {row['status']}",
                        row["coordinator_id"],
                    )
                }
            )
            return rows

        n = self.copier.copy(Case, cases(), history=case_history)
        self.copier.copy(CaseParticipant, participants, history=lambda r: [hist(r["since"])])
        self.copier.copy(
            CaseMember, members, history=lambda r: [hist(r["added_at"], user=r["user_id"])]
        )
        self._copy_grants(CaseGroupObjectPermission, grants)
        self.copier.copy(
            Consent,
            consents,
            history=lambda r: [hist(r["created_at"], reason="동의 기록", user=r["recorded_by_id"])],
        )
        self.copier.copy(
            Note,
            notes,
            history=lambda r: [hist(r["created_at"], reason="기록 추가", user=r["author_id"])],
        )
        self.copier.copy(Notification, notifications)
        # A few fresh concerns per school wait in each coordinator's queue.
        for school in schools:
            for _k in range(3):
                if not pools[school.pk]:
                    break
                sid, _name, _grade = pools[school.pk].pop()
                when = self.at(self.rng.randint(0, 5))
                concerns.append(
                    {
                        "id": self.uid(),
                        "student_id": sid,
                        "school_id": school.pk,
                        "raised_by_id": self.staff[school.pk].teachers[0]
                        if self.staff[school.pk].teachers
                        else self.staff[school.pk].coordinator,
                        "difficulties": self.rng.choice(DIFFICULTIES),
                        "description": "수업 중 관찰",
                        "created_at": when,
                    }
                )
        self.copier.copy(
            Concern, concerns, history=lambda r: [hist(r["created_at"], user=r["raised_by_id"])]
        )
        self.progress(f"cases: {n} ({t.open_cases} open), {len(notes)} notes, {len(grants)} grants")

    def _copy_grants(self, model, grants: list[tuple[int, int, uuid.UUID]]) -> None:
        buf = io.StringIO()
        for group_id, perm_id, obj in grants:
            buf.write(f"{group_id}\t{perm_id}\t{obj}\n")
        buf.seek(0)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f'COPY "{model._meta.db_table}" (group_id, permission_id, content_object_id) FROM STDIN',
                buf,
                size=1 << 20,
            )
        self.copier.seconds += time.perf_counter() - started
        self.copier.counts[model._meta.db_table] = self.copier.counts.get(
            model._meta.db_table, 0
        ) + len(grants)

    def build_referrals(self):
        t = self.tier
        perms = self.perm
        grants = []
        serial: dict[str, int] = {}
        open_cases = [c for c in self.cases if c["_open"] and c["status"] != "identified"]
        closed_cases = [c for c in self.cases if not c["_open"]]
        escalated = [c for c in self.cases if c["_escalated"]]
        made_escalations = 0

        def referrals():
            nonlocal made_escalations
            year = self.today.year
            for i in range(t.referrals):
                status = weighted(self.rng, REFERRAL_MIX)
                if made_escalations < len(escalated) and i % 8 == 0:
                    case = escalated[made_escalations]
                    made_escalations += 1
                    kind, status = "escalation", "accepted"
                elif status in CLOSED and closed_cases and self.rng.random() < 0.5:
                    case = self.rng.choice(closed_cases)
                    kind = "service"
                else:
                    case = self.rng.choice(open_cases or closed_cases)
                    kind = "service"
                    if not case["_open"] and status not in CLOSED:
                        status = "completed"
                school = case["_school"]
                if kind == "escalation":
                    to = school.parent_id
                    roles = (Role.CASE_MANAGER, Role.CENTRE_HEAD)
                    assignee = None
                else:
                    partner = self.rng.choice(self.partners_by_borough[school.region_code])
                    to = partner.pk
                    roles = (Role.PARTNER_WORKER, Role.PARTNER_LEAD)
                    assignee = (
                        self.rng.choice(self.partner_workers[partner.pk])
                        if status not in ("draft", "sent", "received")
                        else None
                    )
                serial[school.code] = serial.get(school.code, 0) + 1
                sent_days = self.rng.randint(0, 360)
                sent = self.at(sent_days)
                rid = self.uid()
                respond_by = (sent + timedelta(days=7)).date()
                row = {
                    "id": rid,
                    "number": f"R{year}-{school.code}-{serial[school.code]:05d}",
                    "case_id": case["id"],
                    "kind": kind,
                    "from_organization_id": school.pk,
                    "to_organization_id": to,
                    "status": status,
                    "urgency": self.rng.choice(["normal", "normal", "normal", "high", "urgent"]),
                    "reason": "상담 및 지원 연계 요청",
                    "requested_domains": ["counselling"],
                    "shared_fields": ["student_name", "grade", "reason"],
                    "packet": None
                    if status == "draft"
                    else {
                        "taken_at": sent.isoformat(),
                        "fields": {
                            "student_name": "(가상)",
                            "grade": 3,
                            "reason": "상담 및 지원 연계 요청",
                        },
                    },
                    "legal_basis": "consent" if kind == "escalation" else "emergency",
                    "consent_id": case.get("_consent") if kind == "escalation" else None,
                    "justification": "" if kind == "escalation" else "시험 자료",
                    "respond_by": respond_by,
                    "assignee_id": assignee,
                    "created_by_id": case["coordinator_id"],
                    "decision_reasons": "지원 결정" if kind == "escalation" else "",
                    "decline_reason": "정원 초과" if status == "declined" else "",
                    "cancel_reason": "학교 지원으로 충분" if status == "cancelled" else "",
                    "outcome": "상담 종결" if status == "completed" else "",
                    "sent_at": None if status == "draft" else sent,
                    "closed_at": sent + timedelta(days=20) if status in CLOSED else None,
                    "created_at": sent,
                    "updated_at": sent,
                }
                if status != "draft":
                    for role in roles:
                        for code in REFERRAL_PERMISSIONS:
                            grants.append((self.groups[(to, role)], perms[("referral", code)], rid))
                yield row

        def referral_history(row):
            rows = [hist(row["created_at"], "+", "의뢰 작성", row["created_by_id"])]
            if row["status"] != "draft":
                rows.append(
                    hist(
                        row["created_at"] + timedelta(minutes=5),
                        "~",
                        f"draft → {row['status']}",
                        row["created_by_id"],
                    )
                )
            return rows

        n = self.copier.copy(Referral, referrals(), history=referral_history)
        self._copy_grants(ReferralGroupObjectPermission, grants)
        self.progress(f"referrals: {n}")

    def build_access_events(self):
        """Hash-chained per month like audit.record_access writes them, over two years."""
        t = self.tier
        if not t.access_events:
            return
        months = 24
        per_month = max(1, t.access_events // months)
        sample = self.cases if len(self.cases) < 50_000 else self.rng.sample(self.cases, 50_000)
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('casework_accessevent', 'id'))")
            next_id = cursor.fetchone()[0]
        columns = [
            "id",
            "occurred_at",
            "partition",
            "user_id",
            "membership_id",
            "action",
            "object_type",
            "object_ids",
            "case_id",
            "student_id",
            "path",
            "ip_address",
            "reason",
            "prev_hash",
            "hash",
        ]
        buf = io.StringIO()
        total = 0
        heads = []
        for m in range(months, 0, -1):
            year, month = divmod(self.now.year * 12 + self.now.month - 1 - m, 12)
            start = datetime(year, month + 1, 1, tzinfo=UTC)
            partition = timezone.localtime(start + timedelta(days=2)).strftime("%Y-%m")
            head = AccessChainHead.objects.filter(partition=partition).first()
            prev = head.last_hash if head else audit.GENESIS
            count = head.count if head else 0
            times = sorted(
                start + timedelta(days=2, seconds=self.rng.randint(0, 24 * 86_400))
                for _ in range(per_month)
            )
            for when in times:
                case = self.rng.choice(sample)
                event = AccessEvent(
                    id=next_id,
                    occurred_at=when,
                    partition=partition,
                    user_id=case["coordinator_id"],
                    membership_id=None,
                    action="view",
                    object_type="case",
                    object_ids=[str(case["id"])],
                    case_id=case["id"],
                    student_id=case["student_id"],
                    path=f"/casework/cases/{case['id']}/",
                    ip_address="10.0.0.1",
                    reason="",
                    prev_hash=prev,
                )
                event.hash = audit._digest(event)
                prev = event.hash
                buf.write("\t".join(copy_text(getattr(event, c)) for c in columns) + "\n")
                next_id += 1
                count += 1
                total += 1
            heads.append((partition, prev, count))
        buf.seek(0)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY casework_accessevent ({', '.join(columns)}) FROM STDIN", buf, size=1 << 20
            )
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('casework_accessevent', 'id'), %s)", [next_id]
            )
        self.copier.seconds += time.perf_counter() - started
        for partition, last, count in heads:
            AccessChainHead.objects.update_or_create(
                partition=partition, defaults={"last_hash": last, "count": count}
            )
        self.copier.counts["casework_accessevent"] = total
        self.progress(f"access events: {total} in {months} monthly chains")

    def run(self) -> Result:
        started = time.perf_counter()
        with transaction.atomic():
            self.build_network()
            self.build_people()
            self.build_students()
            self.build_cases()
            self.build_referrals()
            self.build_access_events()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return Result(
            self.tier.name,
            dict(self.copier.counts),
            time.perf_counter() - started,
            self.copier.seconds,
        )


def already_seeded(tier: Tier) -> bool:
    return Organization.objects.filter(code=f"SC-{tier.name[:1].upper()}00000").exists()


def seed(tier_name: str, *, seed: int = 2026, password: str, progress=None) -> Result:
    tier = TIERS[tier_name]
    if connection.vendor != "postgresql":
        raise RuntimeError("seed_scale loads with PostgreSQL COPY; set DATABASE_URL to PostgreSQL")
    return ScaleSeeder(tier, seed=seed, password=password, progress=progress).run()
