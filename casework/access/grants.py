"""Grants and revocations: the only caller of guardian. Called only by workflow functions
(casework/workflows/), at the events of DESIGN.md §5: open, assign, escalate, accept, refer,
transfer, withdraw, close, membership change."""

from collections.abc import Iterable

from guardian.shortcuts import assign_perm, remove_perm

from casework.models import Case, Referral
from partners.models import Membership, Organization, User
from partners.roles import role_group

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
