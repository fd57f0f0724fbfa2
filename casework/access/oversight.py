"""Who oversees whom (DESIGN.md §9): the privacy officer's reach and who may break the glass.

A privacy officer works for a provincial office (시·도교육청) and oversees every organisation
under it: its district offices and their schools (by `parent`), the boroughs those district
offices cover, and the partners and community centres located in or serving those boroughs.
Reading the access log, building reviews and keeping the destruction register are theirs.
Break-glass is the privacy officer's (for cases of schools they oversee) and the centre head's
(for cases of schools under their district office).
"""

from django.db.models import Q

from casework.models import Case
from partners.choices import OrganizationKind
from partners.models import Membership, Organization, User

from . import roles as r
from .capabilities import holds_role, organizations_where
from .sql import current_memberships, signed_in


def privacy_offices(user: User) -> list[Organization]:
    """The provincial offices where the user is a current (approved) privacy officer."""
    if not signed_in(user):
        return []
    return [
        org
        for org in organizations_where(user, r.PRIVACY_OFFICER_ROLES)
        if org.kind == OrganizationKind.PROVINCIAL_OFFICE
    ]


def is_privacy_officer(user: User) -> bool:
    return bool(privacy_offices(user))


def may_oversee(user: User, office: Organization) -> bool:
    """Whether the user is the privacy officer of `office` (a provincial office)."""
    return office.kind == OrganizationKind.PROVINCIAL_OFFICE and holds_role(
        user, office.pk, r.PRIVACY_OFFICER_ROLES
    )


def organizations_under(office: Organization):
    """Every organisation a provincial office oversees, the office included (a queryset)."""
    districts = Organization.objects.filter(parent=office, kind=OrganizationKind.DISTRICT_OFFICE)
    boroughs = Organization.objects.filter(
        kind=OrganizationKind.LOCAL_GOVERNMENT, covered_by__in=districts
    )
    regions = boroughs.values("region_code")
    return Organization.objects.filter(
        Q(pk=office.pk)
        | Q(parent=office)
        | Q(parent__parent=office)
        | Q(pk__in=boroughs.values("pk"))
        | Q(kind__in=r.OVERSEEN_PARTNER_KINDS, region_code__in=regions)
        | Q(kind__in=r.OVERSEEN_PARTNER_KINDS, serves__in=boroughs)
    ).distinct()


def overseen_organization_ids(user: User) -> set:
    """The ids of every organisation under the user's privacy offices."""
    ids: set = set()
    for office in privacy_offices(user):
        ids.update(organizations_under(office).values_list("pk", flat=True))
    return ids


def oversees_organization(user: User, organization_id) -> bool:
    return organization_id in overseen_organization_ids(user)


def office_overseeing(organization: Organization) -> Organization | None:
    """The provincial office above an organisation, if any (for a school: via its district)."""
    for office in organization.education_offices_above():
        if office.kind == OrganizationKind.PROVINCIAL_OFFICE:
            return office
    return None


def break_glass_membership(user: User, case: Case) -> Membership | None:
    """The current membership through which the user may open `case` outside their grants with
    a reason: as privacy officer of the provincial office above its school, or as centre head
    of the district office the school belongs to (DESIGN.md §5). None: they may not."""
    if not signed_in(user):
        return None
    offices = {
        office.pk: office.kind
        for office in case.owner.education_offices_above()
        if office.kind in (OrganizationKind.DISTRICT_OFFICE, OrganizationKind.PROVINCIAL_OFFICE)
    }
    if not offices:
        return None
    for membership in current_memberships(user).filter(
        organization_id__in=list(offices), role__in=list(r.BREAK_GLASS_ROLES)
    ):
        kind = offices[membership.organization_id]
        if (
            membership.role in r.PRIVACY_OFFICER_ROLES
            and kind == OrganizationKind.PROVINCIAL_OFFICE
        ):
            return membership
        if membership.role in r.BREAK_GLASS_HEAD_ROLES:
            return membership
    return None


def may_break_glass(user: User, case: Case) -> bool:
    """Whether the user may open `case` outside their grants with a reason."""
    return break_glass_membership(user, case) is not None


def may_break_glass_somewhere(user: User) -> bool:
    """Whether the user holds a role that may break the glass anywhere (the search page)."""
    return bool(organizations_where(user, (*r.PRIVACY_OFFICER_ROLES, *r.BREAK_GLASS_HEAD_ROLES)))
