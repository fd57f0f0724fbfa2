"""Staff accounts: one role group per (organisation, role), and the bench accounts
`<organisation code>.<role>[.<n>]` with current memberships (approved, trained) in them.

Role names are data here: a school has a coordinator, a principal, a vice-principal, teachers
and a team member; a district office a centre head and case managers; a partner a lead and
workers; the provincial office an analyst and a privacy officer (DESIGN.md §2)."""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import Group
from simple_history.utils import bulk_create_with_history

from core.bulk import hist
from partners.choices import Role
from partners.models import Membership, Organization, RoleGroup, User

from .base import Load
from .network import Network

# The roles each kind of organisation is staffed with, in the order their groups are made.
SCHOOL_STAFF = (
    Role.COORDINATOR,
    Role.PRINCIPAL,
    Role.VICE_PRINCIPAL,
    Role.TEACHER,
    Role.TEAM_MEMBER,
)
DISTRICT_OFFICE_STAFF = (Role.CASE_MANAGER, Role.CENTRE_HEAD)
PARTNER_STAFF = (Role.PARTNER_WORKER, Role.PARTNER_LEAD)
PROVINCE_STAFF = (Role.ANALYST, Role.PRIVACY_OFFICER)


@dataclass
class Staff:
    coordinator: uuid.UUID
    principal: uuid.UUID
    vice: uuid.UUID
    teachers: list[uuid.UUID] = field(default_factory=list)


@dataclass
class People:
    staff: dict[uuid.UUID, Staff]  # by school
    centre_heads: dict[uuid.UUID, uuid.UUID]  # by district office
    case_managers: dict[uuid.UUID, list[uuid.UUID]]  # by district office
    partner_workers: dict[uuid.UUID, list[uuid.UUID]]  # by partner


def role_groups(pairs: list[tuple[Organization, str]]) -> dict[tuple, int]:
    """Role groups for (organisation, role) pairs, created in bulk: group ids by
    (organisation id, role)."""
    names = {RoleGroup.group_name(org, role): (org, role) for org, role in pairs}
    existing = dict(Group.objects.filter(name__in=names).values_list("name", "id"))
    Group.objects.bulk_create([Group(name=n) for n in names if n not in existing], batch_size=5000)
    ids = dict(Group.objects.filter(name__in=names).values_list("name", "id"))
    have = set(
        RoleGroup.objects.filter(group_id__in=ids.values()).values_list("group_id", flat=True)
    )
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


def build_people(load: Load, net: Network) -> People:
    t = load.tier
    pairs = []
    for school in net.schools:
        pairs += [(school, role) for role in SCHOOL_STAFF]
    for district in net.districts:
        pairs += [(district, role) for role in DISTRICT_OFFICE_STAFF]
    partner_orgs = net.partners
    for org in partner_orgs:
        pairs += [(org, role) for role in PARTNER_STAFF]
    pairs += [(net.province, role) for role in PROVINCE_STAFF]
    groups = role_groups(pairs)
    users, memberships = [], []
    approved = load.today - timedelta(days=30)
    expires = load.today + timedelta(days=335)

    def person(org, role, n=0):
        user_id = load.uid()
        suffix = f".{n}" if n else ""
        users.append(
            {
                "id": user_id,
                "password": load.password_hash,
                "username": f"{org.code.lower()}.{role}{suffix}",
                "email": f"{org.code.lower()}.{role}{suffix}@scale.ieum.kr",
                "name": load.name(),
                "date_joined": load.now,
            }
        )
        memberships.append(
            {
                "id": load.uid(),
                "user_id": user_id,
                "organization_id": org.pk,
                "role": role,
                "group_id": groups[(org.pk, role)],
                "started_on": approved,
                "approved_on": approved,
                "approval_expires_on": expires,
                "training_completed_on": approved,
            }
        )
        return user_id

    staff: dict[uuid.UUID, Staff] = {}
    for school in net.schools:
        staff[school.pk] = Staff(
            coordinator=person(school, Role.COORDINATOR),
            principal=person(school, Role.PRINCIPAL),
            vice=person(school, Role.VICE_PRINCIPAL),
        )
        person(school, Role.TEAM_MEMBER)
        staff[school.pk].teachers = [
            person(school, Role.TEACHER, n + 1) for n in range(t.teachers_per_school)
        ]
    case_managers: dict[uuid.UUID, list[uuid.UUID]] = {}
    centre_heads: dict[uuid.UUID, uuid.UUID] = {}
    for district in net.districts:
        centre_heads[district.pk] = person(district, Role.CENTRE_HEAD)
        case_managers[district.pk] = [
            person(district, Role.CASE_MANAGER, n + 1) for n in range(t.case_managers_per_district)
        ]
    partner_workers: dict[uuid.UUID, list[uuid.UUID]] = {}
    for org in partner_orgs:
        person(org, Role.PARTNER_LEAD)
        partner_workers[org.pk] = [person(org, Role.PARTNER_WORKER, n + 1) for n in range(3)]
    for role in PROVINCE_STAFF:  # the province's analyst (reports) and privacy officer
        person(net.province, role)
    load.copier.copy(User, users, history=lambda r: [hist(load.now, reason="seed_scale")])
    load.copier.copy(
        Membership, memberships, history=lambda r: [hist(load.now, reason="seed_scale")]
    )
    # user.groups mirrors the active memberships (partners/roles.py).
    load.copier.copy_tuples(
        User.groups.through,
        ["user_id", "group_id"],
        ((m["user_id"], m["group_id"]) for m in memberships),
    )
    load.progress(f"people: {len(users)} staff accounts")
    return People(
        staff=staff,
        centre_heads=centre_heads,
        case_managers=case_managers,
        partner_workers=partner_workers,
    )
