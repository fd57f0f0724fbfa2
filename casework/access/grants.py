"""Grants and revocations: the only caller of guardian. Called only by workflow functions
(casework/workflows/), at the events of DESIGN.md §5: open, assign, escalate, accept, refer,
transfer, withdraw, close, membership change. The bulk grants at the end write the same rows
for data loaded at scale (seed_scale), where a guardian call per grant would take hours."""

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from casework.models import Case, Referral
from core.bulk import Copier
from partners.models import Membership, Organization, RoleGroup, User, role_group

from . import roles as r
from .sql import ROLE_GRANTS_ONLY, tables


def _perm_name(obj, codename: str) -> str:
    return f"{obj._meta.app_label}.{codename}"


def _all_perms(obj) -> tuple[str, ...]:
    return r.CASE_PERMISSIONS if isinstance(obj, Case) else r.REFERRAL_PERMISSIONS


def grant_to_role(obj, organization: Organization, role: str, perms: Iterable[str]) -> None:
    """Give `role` at `organization` the permissions `perms` on a case or referral."""
    group = role_group(organization, role)
    for codename in perms:
        assign_perm(_perm_name(obj, codename), group, obj)


def revoke_from_role(
    obj, organization: Organization, role: str, perms: Iterable[str] | None = None
) -> None:
    group = role_group(organization, role)
    for codename in perms or _all_perms(obj):
        remove_perm(_perm_name(obj, codename), group, obj)


def revoke_from_organization(obj, organization: Organization) -> None:
    """Remove every grant any role of `organization` holds on the object."""
    _user_table, group_table = tables(type(obj))
    group_table.objects.filter(content_object=obj, group__role__organization=organization).delete()


def grant_to_user(obj, user: User, perms: Iterable[str]) -> None:
    if type(obj) in ROLE_GRANTS_ONLY:
        raise TypeError(f"{type(obj).__name__} access is granted to roles, never to a person")
    for codename in perms:
        assign_perm(_perm_name(obj, codename), user, obj)


def revoke_from_user(obj, user: User, perms: Iterable[str] | None = None) -> None:
    for codename in perms or _all_perms(obj):
        remove_perm(_perm_name(obj, codename), user, obj)


def grant_case_to_owner_school(case: Case) -> None:
    """Open a new case to its owner school's coordinator, principal and vice-principal."""
    for role, perms in r.OWNER_SCHOOL_GRANTS.items():
        grant_to_role(case, case.owner, role, perms)


def grant_case_to_lead_office(case: Case, office: Organization) -> None:
    for role, perms in r.LEAD_OFFICE_GRANTS.items():
        grant_to_role(case, office, role, perms)


def revoke_case_from_lead_office(case: Case, office: Organization) -> None:
    """The office stops leading the case (the consent its escalation relied on was withdrawn
    or lapsed): its roles and its members' team grants go at once."""
    revoke_case_from_organization(case, office)


def receiver_roles(organization: Organization) -> tuple[str, ...]:
    if organization.is_education_office:
        return r.RECEIVER_ROLES_EDUCATION
    return r.RECEIVER_ROLES_PARTNER


def grant_referral_to_receiver(referral: Referral) -> None:
    """Any member of the receiving organisation's casework roles may see and act on it."""
    receiver = referral.to_organization
    for role in receiver_roles(receiver):
        grant_to_role(referral, receiver, role, r.REFERRAL_PERMISSIONS)


def revoke_referral_from_receiver(referral: Referral) -> None:
    """The receiving organisation loses the referral at once (consent withdrawn)."""
    revoke_from_organization(referral, referral.to_organization)
    user_table, _group_table = tables(Referral)
    user_table.objects.filter(content_object=referral).delete()


def revoke_case_from_organization(case: Case, organization: Organization) -> None:
    """Every grant on the case held by a role of `organization` or by a person whose only
    tie to the case was that organisation (a transfer's old school)."""
    revoke_from_organization(case, organization)
    user_table, _group_table = tables(Case)
    members = Membership.objects.filter(organization=organization).values("user_id")
    user_table.objects.filter(content_object=case, user_id__in=members).delete()


def revoke_membership_grants(membership: Membership) -> int:
    """A membership ended: drop the person's own grants on the cases of that organisation
    (team membership) unless another current membership still ties them to the case. Role
    grants belong to the role and stay; the ended membership simply no longer reaches them.
    Returns the number of grant rows removed."""
    user_table, _group_table = tables(Case)
    still = Membership.objects.current().filter(user_id=membership.user_id)
    still = still.exclude(pk=membership.pk).values("organization_id")
    org = membership.organization_id
    rows = user_table.objects.filter(user_id=membership.user_id).filter(
        content_object__owner_id=org
    ) | user_table.objects.filter(user_id=membership.user_id, content_object__lead_id=org)
    rows = rows.exclude(content_object__owner_id__in=still).exclude(
        content_object__lead_id__in=still
    )
    removed, _ = user_table.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).delete()
    return removed


def team_grants(role: str, *, owner_staff: bool) -> tuple[str, ...]:
    """What a team member holds by case role: restricted notes only for a counsellor who is
    staff of the owner school (DESIGN.md §3 Note)."""
    perms = r.TEAM_GRANTS.get(role, r.DEFAULT_TEAM_GRANTS)
    if not owner_staff:
        perms = tuple(p for p in perms if p != r.VIEW_RESTRICTED_NOTES)
    return perms


def ended_memberships_holding_grants(day):
    """Memberships whose last day is before `day` while their person still holds own grants on
    a case that organisation owns or leads (a membership ended in advance: the daily job)."""
    from django.db import models

    user_table, _group_table = tables(Case)
    held = user_table.objects.filter(user_id=models.OuterRef("user_id")).filter(
        models.Q(content_object__owner_id=models.OuterRef("organization_id"))
        | models.Q(content_object__lead_id=models.OuterRef("organization_id"))
    )
    return Membership.objects.filter(ended_on__lt=day).filter(models.Exists(held))


# --- In bulk: the same role grants for many new objects, one COPY per table ----------------------


def _permission_ids(model, codenames: Iterable[str]) -> dict[str, int]:
    content_type = ContentType.objects.get_for_model(model)
    return dict(
        Permission.objects.filter(
            content_type=content_type, codename__in=set(codenames)
        ).values_list("codename", "id")
    )


def _role_group_ids(wanted: set[tuple]) -> dict[tuple, int]:
    """The group id of each (organisation id, role) in `wanted`, read in one query; a missing
    group is made as `role_group` makes it."""
    found = {
        (org, role): group
        for org, role, group in RoleGroup.objects.filter(
            organization_id__in={org for org, _role in wanted}
        ).values_list("organization_id", "role", "group_id")
    }
    missing = wanted - found.keys()
    if missing:
        organizations = Organization.objects.in_bulk({org for org, _role in missing})
        for org, role in missing:
            found[(org, role)] = role_group(organizations[org], role).pk
    return found


def _copy_role_grants(model, grants: list[tuple], copier: Copier | None) -> int:
    """COPY (object id, organisation id, {role: permissions}) into `model`'s group table."""
    wanted = {(org, role) for _obj, org, table in grants for role in table}
    groups = _role_group_ids(wanted)
    perms = _permission_ids(
        model, {p for _o, _g, table in grants for ps in table.values() for p in ps}
    )
    rows = (
        (groups[(org, role)], perms[codename], obj)
        for obj, org, table in grants
        for role, codenames in table.items()
        for codename in codenames
    )
    _user_table, group_table = tables(model)
    copier = copier or Copier(timezone.now())
    return copier.copy_tuples(group_table, ["group_id", "permission_id", "content_object_id"], rows)


def bulk_grant_cases(cases: Sequence[tuple], *, copier: Copier | None = None) -> int:
    """What `grant_case_to_owner_school` writes for each new case, and `grant_case_to_lead_office`
    for one an office leads, for many cases at once with COPY: `cases` are (case id, owner
    school id, lead office id or None). For cases that hold no grants yet (data loaded at
    scale); `copier` counts the rows and the time. Returns the number of grant rows written."""
    grants = []
    for case_id, owner_id, office_id in cases:
        grants.append((case_id, owner_id, r.OWNER_SCHOOL_GRANTS))
        if office_id is not None:
            grants.append((case_id, office_id, r.LEAD_OFFICE_GRANTS))
    return _copy_role_grants(Case, grants, copier)


def bulk_grant_referrals(referrals: Sequence[tuple], *, copier: Copier | None = None) -> int:
    """What `grant_referral_to_receiver` writes for each sent referral, for many at once with COPY:
    `referrals` are (referral id, receiving organisation id). For referrals that hold no grants
    yet (data loaded at scale); `copier` counts the rows and the time. Returns the number of
    grant rows written."""
    receivers = Organization.objects.in_bulk({org for _referral, org in referrals})
    tables_by_org = {
        pk: dict.fromkeys(receiver_roles(org), r.REFERRAL_PERMISSIONS)
        for pk, org in receivers.items()
    }
    grants = [(referral, org, tables_by_org[org]) for referral, org in referrals]
    return _copy_role_grants(Referral, grants, copier)
