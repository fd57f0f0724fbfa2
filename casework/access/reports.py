"""Who may read aggregate reports, and over which schools (DESIGN.md §10).

A report counts cases; it never names a person. The analyst of a provincial office counts the
schools under it (through its district offices, or directly where it runs the support centre
itself), a centre head the schools of their office, a principal their own school. Everyone
else reads no report.
"""

from django.db.models import Q, QuerySet

from partners.choices import OrganizationKind
from partners.models import Organization, User

from . import roles as r
from .sql import current_memberships, signed_in


def report_scope(user: User) -> QuerySet[Organization] | None:
    """The schools whose cases the user may count in a report (a queryset), or None when the
    user reads no report at all."""
    if not signed_in(user):
        return None
    reach = Q(pk__in=[])
    found = False
    for organization_id, kind, role in (
        current_memberships(user)
        .filter(role__in=list(r.REPORT_ROLES))
        .values_list("organization_id", "organization__kind", "role")
    ):
        if role in r.REPORT_PROVINCE_ROLES and kind == OrganizationKind.PROVINCIAL_OFFICE:
            reach |= Q(parent_id=organization_id) | Q(parent__parent_id=organization_id)
        elif role in r.REPORT_OFFICE_ROLES and kind in (
            OrganizationKind.DISTRICT_OFFICE,
            OrganizationKind.PROVINCIAL_OFFICE,
        ):
            reach |= Q(parent_id=organization_id)
        elif role in r.REPORT_SCHOOL_ROLES and kind == OrganizationKind.SCHOOL:
            reach |= Q(pk=organization_id)
        else:
            continue
        found = True
    if not found:
        return None
    return Organization.objects.filter(reach, kind=OrganizationKind.SCHOOL)


def may_read_reports(user: User) -> bool:
    return report_scope(user) is not None


def committee_offices(user: User) -> QuerySet[Organization] | None:
    """The offices whose committee report (지역위원회 반기 보고, Act Art. 5-6) the user may
    request, or None when they request none: the analyst their provincial office (the
    시·도위원회's report) and its district offices, a centre head their district office. A
    principal reads the summary of their school but no committee report, which covers many
    schools."""
    if not signed_in(user):
        return None
    reach = Q(pk__in=[])
    found = False
    for organization_id, kind, role in (
        current_memberships(user)
        .filter(role__in=[*r.REPORT_PROVINCE_ROLES, *r.REPORT_OFFICE_ROLES])
        .values_list("organization_id", "organization__kind", "role")
    ):
        if role in r.REPORT_PROVINCE_ROLES and kind == OrganizationKind.PROVINCIAL_OFFICE:
            reach |= Q(pk=organization_id) | Q(
                parent_id=organization_id, kind=OrganizationKind.DISTRICT_OFFICE
            )
        elif role in r.REPORT_OFFICE_ROLES and kind == OrganizationKind.DISTRICT_OFFICE:
            reach |= Q(pk=organization_id)
        else:
            continue
        found = True
    if not found:
        return None
    return Organization.objects.filter(
        reach,
        kind__in=(OrganizationKind.PROVINCIAL_OFFICE, OrganizationKind.DISTRICT_OFFICE),
    )


def committee_schools(office: Organization) -> QuerySet[Organization]:
    """The schools a committee report of `office` counts: those of a district office, or every
    school under a provincial office (through its district offices, or directly)."""
    return Organization.objects.filter(
        Q(parent_id=office.pk) | Q(parent__parent_id=office.pk), kind=OrganizationKind.SCHOOL
    )


def committee_requester_organization(user: User, office: Organization) -> Organization | None:
    """The organisation the user requests `office`'s committee report for, as a file's
    watermark names it: the office itself, or the provincial office above it (the analyst's)."""
    held = set(
        current_memberships(user)
        .filter(
            role__in=[*r.REPORT_PROVINCE_ROLES, *r.REPORT_OFFICE_ROLES],
            organization_id__in=[pk for pk in (office.pk, office.parent_id) if pk],
        )
        .values_list("organization_id", flat=True)
    )
    if office.pk in held:
        return office
    return office.parent if office.parent_id in held else None


def may_request_committee_report(user: User) -> bool:
    return committee_offices(user) is not None
