"""What a user may do: the capabilities workflows enforce and pages ask before showing a form.

Each answers from the user's current memberships and grants; none is decided anywhere else.
"""

from collections.abc import Iterable

from casework.choices import TeamRole
from casework.models import Case, Referral
from partners.choices import OrganizationKind
from partners.memberships import memoized_current_memberships
from partners.models import Membership, Organization, User

from . import roles as r
from .sql import current_memberships, membership_values, signed_in
from .visibility import visible_cases, visible_referrals


def has_case_perm(user: User, perm: str, case: Case) -> bool:
    return visible_cases(user, perm).filter(pk=case.pk).exists()


def has_referral_perm(user: User, perm: str, referral: Referral) -> bool:
    return visible_referrals(user, perm).filter(pk=referral.pk).exists()


def acting_membership(
    user: User, organization: Organization, roles: Iterable[str]
) -> Membership | None:
    """The user's current membership at `organization` in one of `roles`, if any: the capacity
    in which they may act there (e.g. a coordinator importing the roster)."""
    return (
        current_memberships(user)
        .filter(organization=organization, role__in=list(roles))
        .select_related("organization")
        .first()
    )


def holds_role(user: User, organization_id, roles: Iterable[str]) -> bool:
    """Whether the user holds one of `roles` at the organisation today, from the request's
    memberships when it has read them."""
    roles = tuple(roles)
    rows = memoized_current_memberships(user, None)
    if rows is None:
        return (
            current_memberships(user)
            .filter(organization_id=organization_id, role__in=list(roles))
            .exists()
        )
    return any(m.organization_id == organization_id and m.role in roles for m in rows)


def current_roles(user: User) -> set[str]:
    """The roles of the user's current memberships."""
    rows = memoized_current_memberships(user, None)
    if rows is None:
        return set(current_memberships(user).values_list("role", flat=True))
    return {m.role for m in rows}


def organizations_where(user: User, roles: Iterable[str]) -> list[Organization]:
    return [
        m.organization
        for m in current_memberships(user)
        .filter(role__in=list(roles))
        .select_related("organization")
        .order_by("organization__name")
    ]


# --- Schools ---------------------------------------------------------------------------------


def works_at_school(user: User, school: Organization) -> bool:
    """Works from the school's roster (raises concerns about its students)."""
    return holds_role(user, school.pk, r.ROSTER_ROLES)


def schools_worked_at(user: User) -> list[Organization]:
    """The schools from whose roster the user works."""
    return organizations_where(user, r.ROSTER_ROLES)


def keeps_roster(user: User, school: Organization) -> bool:
    """Registers students and imports the school's roster (its coordinator)."""
    return holds_role(user, school.pk, r.ROSTER_KEEPER_ROLES)


def roster_schools(user: User) -> list[Organization]:
    """The schools whose roster the user keeps."""
    return organizations_where(user, r.ROSTER_KEEPER_ROLES)


def may_triage(user: User, school: Organization) -> bool:
    return holds_role(user, school.pk, r.TRIAGE_ROLES)


def organizations_where_triaging(user: User) -> list[Organization]:
    return organizations_where(user, r.TRIAGE_ROLES)


def organizations_seeing_cases(user: User) -> list[Organization]:
    """The organisations whose cases the user sees by role: an owner school's staff who hold its
    cases, a district office's staff the cases it leads. Anyone else sees only the cases whose
    team they are on."""
    return organizations_where(user, (*r.OWNER_SCHOOL_GRANTS, *r.LEAD_OFFICE_GRANTS))


def may_open_case(user: User, school: Organization) -> bool:
    return holds_role(user, school.pk, r.OPEN_CASE_ROLES)


def heads_a_school(user: User) -> bool:
    return bool(current_roles(user) & set(r.SCHOOL_HEAD_ROLES))


def works_at_district(user: User) -> bool:
    return bool(current_roles(user) & set(r.DISTRICT_ROLES))


def district_offices(user: User) -> list[Organization]:
    """The district offices (교육지원청) where the user works the support centre."""
    return [
        org
        for org in organizations_where(user, r.DISTRICT_ROLES)
        if org.kind == OrganizationKind.DISTRICT_OFFICE
    ]


# --- Meetings --------------------------------------------------------------------------------


def may_record_meeting(user: User, organization: Organization) -> bool:
    return holds_role(user, organization.pk, r.MEETING_ROLES)


# --- Case team -------------------------------------------------------------------------------


def team_role_fits(user: User, case: Case, role: str) -> bool:
    """A team role fits the person's organisation (DESIGN.md §3): the owner school's staff
    take the school's roles (a head never as counsellor, who reads restricted notes); a lead
    office's members join as case manager."""
    if role not in TeamRole.values:
        return False
    if role in r.OWNER_TEAM_ROLES:
        if role == TeamRole.COUNSELLOR:
            return holds_role(user, case.owner_id, r.RESTRICTED_NOTE_STAFF_ROLES)
        return holds_role(user, case.owner_id, r.ROSTER_ROLES)
    if role in r.LEAD_OFFICE_TEAM_ROLES:
        return case.lead_id != case.owner_id and holds_role(
            user, case.lead_id, tuple(r.LEAD_OFFICE_GRANTS)
        )
    return False


def is_owner_staff(user: User, case: Case) -> bool:
    """Staff of the owner school in a role that may read restricted notes as a counsellor."""
    return holds_role(user, case.owner_id, r.RESTRICTED_NOTE_STAFF_ROLES)


def team_candidates(case: Case):
    """The people who may join the case's team: current members of its owner school and lead
    organisation, with the role they hold there."""
    orgs = {case.owner_id, case.lead_id}
    return (
        Membership.objects.current()
        .filter(organization_id__in=orgs)
        .filter(role__in=[*r.ROSTER_ROLES, *r.LEAD_OFFICE_GRANTS])
        .select_related("user")
        .order_by("user__name")
    )


# --- Referrals -------------------------------------------------------------------------------


def is_member_of(user: User, organization_id) -> bool:
    """Holds a current membership (any role) at the organisation."""
    rows = memoized_current_memberships(user, None)
    if rows is None:
        return current_memberships(user).filter(organization_id=organization_id).exists()
    return any(m.organization_id == organization_id for m in rows)


def is_referral_sender(user: User, referral: Referral) -> bool:
    """The sending side: may view the case, and acts at the sending organisation."""
    return has_case_perm(user, r.VIEW_CASE, referral.case) and is_member_of(
        user, referral.from_organization_id
    )


def acts_for_referral_sender(user: User, referral: Referral, case_perms=None) -> bool:
    """May the user draft, send or cancel this referral: `manage_case` on its case and a
    sending role at the organisation that sends it. `case_perms`, when the caller already
    holds the user's permissions on the case (an AccessChecker), spares a query."""
    if case_perms is None:
        allowed = has_case_perm(user, r.MANAGE_CASE, referral.case)
    else:
        allowed = r.MANAGE_CASE in case_perms
    return allowed and holds_role(user, referral.from_organization_id, r.REFERRAL_SENDER_ROLES)


def sending_organization(user: User, case: Case, case_perms=None) -> Organization | None:
    """Where the user sends referrals from for this case: the lead office if they hold a
    sending role there, else the owner school; None without `manage_case` on the case.
    `case_perms`, when the caller holds the user's permissions on the case, spares a query."""
    if case_perms is None:
        allowed = has_case_perm(user, r.MANAGE_CASE, case)
    else:
        allowed = r.MANAGE_CASE in case_perms
    if not allowed:
        return None
    places = (case.lead, case.owner) if case.lead_id != case.owner_id else (case.owner,)
    for org in places:
        if holds_role(user, org.pk, r.REFERRAL_SENDER_ROLES):
            return org
    return None


def may_send_from(user: User, organization: Organization) -> bool:
    return holds_role(user, organization.pk, r.REFERRAL_SENDER_ROLES)


def decider_roles(referral: Referral) -> tuple[str, ...]:
    """Who at the receiving side accepts or declines: an escalation's centre head, else the
    receiving organisation's casework roles."""
    if referral.kind == "escalation":
        return r.ESCALATION_DECIDER_ROLES
    return receiver_roles(referral.to_organization)


def receiver_roles(organization: Organization) -> tuple[str, ...]:
    if organization.is_education_office:
        return r.RECEIVER_ROLES_EDUCATION
    return r.RECEIVER_ROLES_PARTNER


def may_decide_referral(user: User, referral: Referral) -> bool:
    return holds_role(user, referral.to_organization_id, decider_roles(referral))


def may_assign_referral(user: User, referral: Referral) -> bool:
    return holds_role(user, referral.to_organization_id, r.ASSIGNER_ROLES)


# --- Transfers -------------------------------------------------------------------------------


def may_request_transfer(user: User, case: Case, case_perms=None) -> bool:
    """Who may request a case's hand-over, for the workflow and the case page alike:
    `manage_case` and a request role at the owner school (a lead office's case manager manages
    the case but does not move it between schools)."""
    if case_perms is None:
        allowed = has_case_perm(user, r.MANAGE_CASE, case)
    else:
        allowed = r.MANAGE_CASE in case_perms
    return allowed and holds_role(user, case.owner_id, r.TRANSFER_REQUEST_ROLES)


def may_receive_transfer(user: User, school: Organization) -> bool:
    return holds_role(user, school.pk, r.TRANSFER_RECEIVER_ROLES)


def may_confirm_claim(user: User, case: Case) -> bool:
    return holds_role(user, case.owner_id, r.TRANSFER_REQUEST_ROLES)


# --- Who is told -----------------------------------------------------------------------------


def _people(organization: Organization, roles: Iterable[str]) -> list[User]:
    return [
        m.user
        for m in Membership.objects.current()
        .filter(organization=organization, role__in=list(roles))
        .select_related("user")
        .order_by("user__username")
    ]


def audience(organization: Organization, event: str) -> list[User]:
    """The people at `organization` who must know of `event` (roles.AUDIENCES), current
    members only."""
    return _people(organization, r.AUDIENCES[event])


def receiving_people(organization: Organization) -> list[User]:
    """The people who work what is addressed to the organisation (its receiving roles)."""
    return _people(organization, receiver_roles(organization))


def may_receive_referrals(user: User, organization: Organization) -> bool:
    """Works what is addressed to the organisation (a referral's assignee must)."""
    return holds_role(user, organization.pk, receiver_roles(organization))


# --- The menu --------------------------------------------------------------------------------


def menu(user: User) -> dict[str, bool]:
    """Which menu entries the user's current memberships call for."""
    if not signed_in(user):
        return {}
    roles = current_roles(user)
    return {entry: bool(roles & wanted) for entry, wanted in r.MENU.items()}


def membership_orgs(user: User):
    return membership_values(user, None, "organization_id")
