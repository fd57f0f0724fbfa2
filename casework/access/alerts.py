"""Who alerts a school about a child, and who sends on what the match could not place
(DESIGN.md §11, docs/discovery.md).

A sender sees their own alerts and only their status; nothing here lets a sender read the
student, the concern or the case an alert led to. A district office's centre staff see the
alerts routed to their office, with what the sender wrote, and the students of the office's
schools whose name or birth date is the alert's, to pick the one it is about.
"""

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from casework.models import Alert, EnrolmentStatus, Student
from partners.choices import EDUCATION_OFFICE_KINDS, OrganizationKind
from partners.models import Organization, User

from . import roles as r
from .capabilities import holds_role
from .sql import current_memberships, membership_values, signed_in

# How many students the routing form offers at most.
CANDIDATES_SHOWN = 50


def alert_sending_organization(user: User) -> Organization | None:
    """The organisation the user alerts schools for (their first, by name), or None when they
    may not send alerts: a current membership in a sender role outside the education system."""
    membership = (
        current_memberships(user)
        .filter(role__in=list(r.ALERT_SENDER_ROLES))
        .filter(organization__kind__in=list(r.ALERT_SENDER_KINDS))
        .select_related("organization")
        .order_by("organization__name")
        .first()
    )
    return membership.organization if membership else None


def may_send_alert(user: User) -> bool:
    return alert_sending_organization(user) is not None


def sent_alerts(user: User) -> QuerySet[Alert]:
    """The user's own alerts, sent for an organisation where they still hold a sender role."""
    if not signed_in(user):
        return Alert.objects.none()
    places = membership_values(user, None, "organization_id", roles=r.ALERT_SENDER_ROLES)
    return Alert.objects.filter(sender=user, sender_organization_id__in=places)


def alert_offices(user: User) -> list[Organization]:
    """The education offices whose routed alerts the user works (their district centre; the
    provincial office where it runs the centre itself)."""
    return [
        m.organization
        for m in current_memberships(user)
        .filter(role__in=list(r.ALERT_ROUTER_ROLES))
        .filter(organization__kind__in=list(EDUCATION_OFFICE_KINDS))
        .select_related("organization")
        .order_by("organization__name")
    ]


def may_route_alerts(user: User) -> bool:
    return bool(alert_offices(user))


def alerts_to_route(user: User) -> QuerySet[Alert]:
    """The alerts routed to the offices where the user works the centre."""
    if not signed_in(user):
        return Alert.objects.none()
    offices = membership_values(user, None, "organization_id", roles=r.ALERT_ROUTER_ROLES)
    return Alert.objects.filter(office_id__in=offices)


def get_alert_to_route_or_404(user: User, pk) -> Alert:
    """One alert routed to the user's office, or 404 (missing and foreign alike)."""
    try:
        return alerts_to_route(user).select_related("sender", "sender_organization").get(pk=pk)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404 from None


def may_route_alert(user: User, alert: Alert) -> bool:
    return alert.office_id is not None and holds_role(user, alert.office_id, r.ALERT_ROUTER_ROLES)


def alert_route_schools(alert: Alert) -> QuerySet[Organization]:
    """The schools an office may send an alert on to: those under the office it was routed to."""
    if alert.office_id is None:
        return Organization.objects.none()
    return Organization.objects.filter(
        kind=OrganizationKind.SCHOOL, parent_id=alert.office_id, active=True
    ).order_by("name")


def alert_candidate_students(user: User, alert: Alert, school: Organization) -> QuerySet[Student]:
    """The students of `school` the alert may be about (same name or same birth date), for the
    office staff routing it; nothing for anyone else or a school outside the office."""
    if not may_route_alert(user, alert) or school.parent_id != alert.office_id:
        return Student.objects.none()
    return (
        Student.objects.filter(school=school, enrolment_status=EnrolmentStatus.ENROLLED)
        .filter(Q(name=alert.name) | Q(birth_date=alert.birth_date))
        .order_by("name", "grade", "class_no", "number")[:CANDIDATES_SHOWN]
    )
