"""Who oversees whom (DESIGN.md §9): the privacy officer's reach and who may break the glass.

A privacy officer works for a provincial office (시·도교육청) and oversees every organisation
under it: its district offices and their schools (by `parent`), the boroughs those district
offices cover, and the partners and community centres located in or serving those boroughs.
Reading the access log, building reviews and keeping the destruction register are theirs.
Break-glass is the privacy officer's (for cases of schools they oversee) and the centre head's
(for cases of schools under their district office).
"""

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.models import (
    AccessEvent,
    AccessReview,
    BreakGlass,
    Case,
    CaseMember,
    DestructionRecord,
    Referral,
    ReviewFinding,
    Student,
)
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


def may_read_access_log(user: User) -> bool:
    """Reading the access log, building reviews, keeping the register: the privacy officer's."""
    return is_privacy_officer(user)


def access_events_about(organization_ids) -> QuerySet[AccessEvent]:
    """The access events made through a membership of one of the organisations, or about a
    case or a student of one of them: what their privacy officer reviews."""
    ids = list(organization_ids)
    if not ids:
        return AccessEvent.objects.none()
    return AccessEvent.objects.filter(
        Q(membership__organization_id__in=ids)
        | Q(case__owner_id__in=ids)
        | Q(student__school_id__in=ids)
    )


def visible_access_events(user: User) -> QuerySet[AccessEvent]:
    """The access events a privacy officer may read: those of the organisations under their
    provincial offices. Nothing for anyone else."""
    return access_events_about(overseen_organization_ids(user))


def outside_caseload(events: QuerySet[AccessEvent]) -> QuerySet[AccessEvent]:
    """The reads of a case by someone whose work is not every case of their organisation
    (CASELOAD_WIDE_ROLES) and who was, at that moment, neither on the case's team nor its
    coordinator nor the worker assigned one of its referrals (DESIGN.md §9)."""
    on_team = CaseMember.objects.filter(
        case_id=OuterRef("case_id"),
        user_id=OuterRef("user_id"),
        added_at__lte=OuterRef("occurred_at"),
    ).filter(Q(removed_at__isnull=True) | Q(removed_at__gt=OuterRef("occurred_at")))
    assigned = Referral.objects.filter(case_id=OuterRef("case_id"), assignee_id=OuterRef("user_id"))
    return (
        events.filter(case__isnull=False, action=AccessEvent.Action.VIEW, membership__isnull=False)
        .exclude(membership__role__in=list(r.CASELOAD_WIDE_ROLES))
        .exclude(case__coordinator_id=F("user_id"))
        .exclude(Exists(on_team))
        .exclude(Exists(assigned))
    )


def visible_reviews(user: User) -> QuerySet[AccessReview]:
    """The monthly reviews of the user's privacy offices."""
    offices = [office.pk for office in privacy_offices(user)]
    return AccessReview.objects.filter(office_id__in=offices)


def _by_pk(rows: QuerySet, pk):
    try:
        found = rows.filter(pk=pk).first()
    except (ValidationError, ValueError, TypeError):
        raise Http404 from None
    if found is None:
        raise Http404
    return found


def get_visible_review_or_404(user: User, pk) -> AccessReview:
    return _by_pk(visible_reviews(user).select_related("office", "built_by", "reviewed_by"), pk)


def get_overseen_finding_or_404(user: User, pk) -> ReviewFinding:
    """A finding of a review of the user's privacy offices (the officer's side of 소명)."""
    rows = ReviewFinding.objects.filter(review__in=visible_reviews(user))
    return _by_pk(rows.select_related("review__office", "user", "organization"), pk)


def get_own_finding_or_404(user: User, pk) -> ReviewFinding:
    """A finding about the user that an officer has asked them to explain (the person's side):
    findings nobody asked about stay the officer's."""
    if not signed_in(user):
        raise Http404
    rows = ReviewFinding.objects.filter(user=user).exclude(question="")
    return _by_pk(rows.select_related("review__office", "asked_by"), pk)


def overseen_break_glasses(user: User, now=None) -> QuerySet[BreakGlass]:
    """The break-glass openings in force on cases of schools the user oversees."""
    ids = list(overseen_organization_ids(user))
    if not ids:
        return BreakGlass.objects.none()
    now = now or timezone.now()
    return BreakGlass.objects.filter(
        case__owner_id__in=ids, ended_at__isnull=True, expires_at__gt=now
    )


def open_findings(user: User) -> QuerySet[ReviewFinding]:
    """The findings of the user's reviews still in the explanation loop (asked or answered)."""
    return ReviewFinding.objects.filter(
        review__in=visible_reviews(user),
        status__in=[ReviewFinding.Status.ASKED, ReviewFinding.Status.ANSWERED],
    )


def visible_destructions(user: User) -> QuerySet[DestructionRecord]:
    """The register lines of the organisations under the user's privacy offices: those of their
    cases, of their students, and the access log's months (which name no one)."""
    ids = list(overseen_organization_ids(user))
    if not ids:
        return DestructionRecord.objects.none()
    students = Student.objects.filter(school_id__in=ids).values("pk")
    return DestructionRecord.objects.filter(
        Q(case__owner_id__in=ids)
        | Q(object_type="student", object_id__in=students)
        | Q(object_type="access_log_month")
    )


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
