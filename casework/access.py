"""Who may see and do what with cases and referrals: the one place that answers (DESIGN.md §5).

Grants are guardian object permissions held by role groups (`partners.RoleGroup`) and by users,
stored in the direct-FK tables of casework/models/permissions.py. Workflow functions grant and
revoke through the helpers below; views, the API, exports and reports ask through the selectors.

guardian's own lookups (`get_objects_for_user`, `ObjectPermissionChecker`) follow `user.groups`,
which cannot know that a data-handling approval has expired. So the selectors here build their
own `EXISTS` subqueries over guardian's tables, joined to the user's *current, approved*
memberships (Act Art. 17⑦). Model-level permissions never widen row access, and a superuser
gets no case content from being a superuser.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.contrib.auth.models import AnonymousUser, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from guardian.shortcuts import assign_perm, remove_perm

from partners.choices import Role
from partners.memberships import memoized_current_memberships
from partners.models import Membership, Organization, User, today
from partners.roles import role_group

from .models import (
    Case,
    CaseGroupObjectPermission,
    CaseUserObjectPermission,
    Note,
    Referral,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
    Student,
)

VIEW_CASE = "view_case"
CHANGE_CASE = "change_case"
MANAGE_CASE = "manage_case"
VIEW_RESTRICTED_NOTES = "view_restricted_notes"
APPROVE_PLAN = "approve_plan"
CASE_PERMISSIONS = (VIEW_CASE, CHANGE_CASE, MANAGE_CASE, VIEW_RESTRICTED_NOTES, APPROVE_PLAN)

VIEW_REFERRAL = "view_referral"
ACT_ON_REFERRAL = "act_on_referral"
REFERRAL_PERMISSIONS = (VIEW_REFERRAL, ACT_ON_REFERRAL)

# What each role of the owner school holds on the school's cases (DESIGN.md §2 roles table).
OWNER_SCHOOL_GRANTS: dict[str, tuple[str, ...]] = {
    Role.COORDINATOR: CASE_PERMISSIONS[:4],  # runs every case, reads restricted notes
    Role.PRINCIPAL: (VIEW_CASE, MANAGE_CASE, APPROVE_PLAN),  # may send escalations
    Role.VICE_PRINCIPAL: (VIEW_CASE,),
}
# What the lead district office holds once it accepts an escalation (never restricted notes).
LEAD_OFFICE_GRANTS: dict[str, tuple[str, ...]] = {
    Role.CASE_MANAGER: (VIEW_CASE, CHANGE_CASE, MANAGE_CASE),
    Role.CENTRE_HEAD: (VIEW_CASE,),
}


def _tables(model):
    if model is Case:
        return CaseUserObjectPermission, CaseGroupObjectPermission
    if model is Referral:
        return ReferralUserObjectPermission, ReferralGroupObjectPermission
    raise TypeError(f"no object permissions for {model.__name__}")


def current_memberships(user: User, day: date | None = None) -> QuerySet[Membership]:
    """The memberships that contribute access today: active and holding a current approval."""
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none()
    return Membership.objects.current(day).filter(user=user)


def _membership_values(user: User, day: date | None, field: str, roles=None):
    """`field` (group_id, organization_id) of the user's current memberships, as literal values
    when the request has already read them (partners.memberships), else as a subquery."""
    rows = memoized_current_memberships(user, day)
    if rows is None:
        memberships = current_memberships(user, day)
        if roles is not None:
            memberships = memberships.filter(role__in=list(roles))
        return memberships.values(field)
    return sorted({getattr(m, field) for m in rows if roles is None or m.role in roles}, key=str)


# --- The grant subqueries, in SQL ------------------------------------------------------------
# Every list and check of a page runs through these. They are written as SQL (portable between
# PostgreSQL and SQLite) because the ORM spent more time compiling the union of the two grant
# tables than PostgreSQL spent running it, several times per request.

Sql = tuple[str, list]


def _column(model, attname: str) -> str:
    return model._meta.get_field(attname.removesuffix("_id")).column


def _db_value(model, field: str, value):
    target = model._meta.get_field(field)
    target = getattr(target, "target_field", target)
    return target.get_db_prep_value(value, connection, prepared=False)


def _membership_sql(user: User, day: date | None, field: str, roles=None) -> Sql | None:
    """What goes inside `IN (...)` for `field` of the user's current memberships: literal values
    from the request's memo (no join for PostgreSQL to plan), else a subquery. None when the
    user has no such membership."""
    column = _column(Membership, field)
    rows = memoized_current_memberships(user, day)
    if rows is not None:
        values = sorted(
            {getattr(m, field) for m in rows if roles is None or m.role in roles}, key=str
        )
        if not values:
            return None
        marks = ", ".join(["%s"] * len(values))
        return marks, [_db_value(Membership, field.removesuffix("_id"), v) for v in values]
    day = day or today()
    sql = (
        f"SELECT m.{column} FROM {Membership._meta.db_table} m WHERE m.user_id = %s "
        "AND m.active = %s AND m.approved_on IS NOT NULL AND m.approved_on <= %s "
        "AND m.approval_expires_on >= %s"
    )
    params = [_db_value(Membership, "user", user.pk), True]
    params += [connection.ops.adapt_datefield_value(day)] * 2
    if roles is not None:
        sql += f" AND m.role IN ({', '.join(['%s'] * len(roles))})"
        params += list(roles)
    return sql, params


def _grants_sql(model, user: User, codename: str, day: date | None = None) -> Sql | None:
    """The ids of `model` rows on which the user holds `codename`: through a current
    membership's role group, or through a user grant while a current member of one of the row's
    organisations. A UNION ALL of the two grant tables, each read through its (group|user,
    permission, object) index, so that a list is a semi-join driven by the user's grants rather
    than a scan of every row (an OR of two EXISTS cannot be planned as a semi-join). The
    permission is a one-row subquery, planned once per statement. None: no row can match."""
    user_table, group_table = _tables(model)
    permission = (
        f"(SELECT p.id FROM {Permission._meta.db_table} p "
        f"INNER JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id "
        "WHERE ct.app_label = %s AND ct.model = %s AND p.codename = %s)"
    )
    permission_params = [model._meta.app_label, model._meta.model_name, codename]
    by_group = by_user = None
    groups = _membership_sql(user, day, "group_id")
    if groups is not None:
        by_group = (
            f"SELECT g.content_object_id FROM {group_table._meta.db_table} g "
            f"WHERE g.permission_id = {permission} AND g.group_id IN ({groups[0]})",
            permission_params + groups[1],
        )
    orgs = _membership_sql(user, day, "organization_id")
    if orgs is not None and model not in ROLE_GRANTS_ONLY:
        at_row = " OR ".join(
            f"r.{_column(model, f)} IN ({orgs[0]})" for f in ROW_ORGANIZATIONS[model]
        )
        by_user = (
            f"SELECT u.content_object_id FROM {user_table._meta.db_table} u "
            f"INNER JOIN {model._meta.db_table} r ON r.{model._meta.pk.column} = u.content_object_id "
            f"WHERE u.permission_id = {permission} AND u.user_id = %s AND ({at_row})",
            permission_params
            + [_db_value(user_table, "user", user.pk)]
            + orgs[1] * len(ROW_ORGANIZATIONS[model]),
        )
    return _union(by_group, by_user)


def _union(*parts: Sql | None) -> Sql | None:
    """UNION ALL of the parts that can match anything; None if none can."""
    found = [part for part in parts if part is not None]
    if not found:
        return None
    return " UNION ALL ".join(sql for sql, _params in found), [v for _sql, ps in found for v in ps]


def _among(field: str, sql: Sql | None) -> Q:
    """`field IN (<sql>)`, or a condition no row meets."""
    if sql is None:
        return Q(**{f"{field}__in": []})
    return Q(**{f"{field}__in": RawSQL(*sql)})


# The organisations a row belongs to. A user-level grant (a team member) counts only while the
# user holds a current membership at one of them: ending that membership ends the access at
# once, whatever other memberships the user keeps.
ROW_ORGANIZATIONS = {
    Case: ("owner_id", "lead_id"),
    Referral: ("from_organization_id", "to_organization_id"),
}
# Referrals are granted to the receiving organisation's roles only (`grant_referral_to_receiver`;
# the sending side sees them through the case), never to a person: their grant queries read the
# group table alone, which PostgreSQL can estimate and plan far better than a union.
ROLE_GRANTS_ONLY = {Referral}


def _grant_exists(model, user: User, codename: str, day: date | None = None) -> Q:
    """One condition for a queryset of `model`: the row is among the user's grants."""
    return _among("pk", _grants_sql(model, user, codename, day))


def _visible(model, user, codename: str) -> QuerySet:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return model.objects.none()
    return model.objects.filter(_grant_exists(model, user, codename))


def visible_cases(user: User, perm: str = VIEW_CASE) -> QuerySet[Case]:
    """Cases on which `user` holds `perm` today."""
    return _visible(Case, user, perm)


def visible_referrals(user: User, perm: str = VIEW_REFERRAL) -> QuerySet[Referral]:
    """Referrals `user` may see today: the receiving side through its grant on the referral
    (`act_on_referral` for actions), the sending side through the case (whoever may view a case
    sees its referrals, so a transfer or a lost approval ends both at once)."""
    if perm != VIEW_REFERRAL:
        return _visible(Referral, user, perm)
    if user is None or not getattr(user, "is_authenticated", False):
        return Referral.objects.none()
    cases = _grants_sql(Case, user, VIEW_CASE)
    of_cases = None
    if cases is not None:
        of_cases = (
            f"SELECT x.id FROM {Referral._meta.db_table} x "
            f"WHERE x.{_column(Referral, 'case_id')} IN ({cases[0]})",
            cases[1],
        )
    return Referral.objects.filter(
        _among("pk", _union(_grants_sql(Referral, user, perm), of_cases))
    )


def received_referrals(user: User) -> QuerySet[Referral]:
    """Referrals addressed to the user's organisations that the user may act on: the inbox.
    The receiving organisation is named as well as the grant (which only its roles hold), so
    that PostgreSQL reads the inbox through the (to_organization, status, created_at) index."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Referral.objects.none()
    orgs = _membership_values(user, None, "organization_id")
    return (
        _visible(Referral, user, ACT_ON_REFERRAL)
        .filter(to_organization_id__in=orgs)
        .exclude(status="draft")
    )


def sent_referrals(user: User) -> QuerySet[Referral]:
    """Referrals of cases the user may view, sent by one of the user's organisations: the outbox."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Referral.objects.none()
    orgs = _membership_values(user, None, "organization_id")
    return Referral.objects.filter(
        _among("case_id", _grants_sql(Case, user, VIEW_CASE)), from_organization_id__in=orgs
    )


# School roles that work from the school's roster (a teacher sees name, grade and class only).
ROSTER_ROLES = (
    Role.TEACHER,
    Role.TEAM_MEMBER,
    Role.COORDINATOR,
    Role.VICE_PRINCIPAL,
    Role.PRINCIPAL,
)


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


def visible_students(user: User) -> QuerySet[Student]:
    """Students on the rosters of the user's schools, and students of cases the user may view."""
    if not getattr(user, "is_authenticated", False):
        return Student.objects.none()
    on_roster = of_cases = None
    schools = _membership_sql(user, None, "organization_id", roles=ROSTER_ROLES)
    if schools is not None:
        on_roster = (
            f"SELECT s.id FROM {Student._meta.db_table} s "
            f"WHERE s.{_column(Student, 'school_id')} IN ({schools[0]})",
            schools[1],
        )
    cases = _grants_sql(Case, user, VIEW_CASE)
    if cases is not None:
        of_cases = (
            f"SELECT c.{_column(Case, 'student_id')} FROM {Case._meta.db_table} c "
            f"WHERE c.id IN ({cases[0]})",
            cases[1],
        )
    return Student.objects.filter(_among("pk", _union(on_roster, of_cases)))


def visible_notes(user: User, case: Case | None = None) -> QuerySet[Note]:
    """Notes of cases the user may view: team notes, plus restricted notes the user wrote or may
    read (the school's coordinator and counsellor team members; never the lead office)."""
    if not getattr(user, "is_authenticated", False):
        return Note.objects.none()
    notes = Note.objects.filter(_among("case_id", _grants_sql(Case, user, VIEW_CASE)))
    if case is not None:
        notes = notes.filter(case=case)
    return notes.filter(
        Q(confidentiality=Note.Confidentiality.TEAM)
        | Q(author=user)
        | _among("case_id", _grants_sql(Case, user, VIEW_RESTRICTED_NOTES))
    )


def has_case_perm(user: User, perm: str, case: Case) -> bool:
    return visible_cases(user, perm).filter(pk=case.pk).exists()


def has_referral_perm(user: User, perm: str, referral: Referral) -> bool:
    return visible_referrals(user, perm).filter(pk=referral.pk).exists()


def is_referral_sender(user: User, referral: Referral) -> bool:
    """The sending side: may view the case, and acts at the sending organisation."""
    return (
        has_case_perm(user, VIEW_CASE, referral.case)
        and current_memberships(user).filter(organization_id=referral.from_organization_id).exists()
    )


# The sender's case staff (DESIGN.md §4): the school's coordinator and principal, a lead
# office's case managers. They draft, send and cancel; a vice-principal only follows the case.
REFERRAL_SENDER_ROLES = (Role.COORDINATOR, Role.PRINCIPAL, Role.CASE_MANAGER)


def holds_role(user: User, organization_id, roles: Iterable[str]) -> bool:
    """Whether the user holds one of `roles` at the organisation today (current approval),
    from the request's memberships when it has read them."""
    roles = tuple(roles)
    rows = memoized_current_memberships(user, None)
    if rows is None:
        return (
            current_memberships(user)
            .filter(organization_id=organization_id, role__in=list(roles))
            .exists()
        )
    return any(m.organization_id == organization_id and m.role in roles for m in rows)


def acts_for_referral_sender(user: User, referral: Referral, case_perms=None) -> bool:
    """May the user draft, send or cancel this referral: `manage_case` on its case and a
    sending role at the organisation that sends it. `case_perms`, when the caller already
    holds the user's permissions on the case (an AccessChecker), spares a query."""
    if case_perms is None:
        allowed = has_case_perm(user, MANAGE_CASE, referral.case)
    else:
        allowed = MANAGE_CASE in case_perms
    return allowed and holds_role(user, referral.from_organization_id, REFERRAL_SENDER_ROLES)


class AccessChecker:
    """Per-request permission cache: `prefetch(objects)` loads the user's permissions on a whole
    page of cases or referrals in two queries; `perms(obj)` then answers without a query.
    One checker per request, never one per object."""

    def __init__(self, user: User, day: date | None = None):
        self.user = user
        self.day = day
        self._cache: dict[tuple[type, object], set[str]] = {}

    def prefetch(self, objects: Iterable) -> None:
        by_model: dict[type, list] = defaultdict(list)
        for obj in objects:
            by_model[type(obj)].append(obj.pk)
        for model, pks in by_model.items():
            found: dict[object, set[str]] = {pk: set() for pk in pks}
            if getattr(self.user, "is_authenticated", False):
                user_table, group_table = _tables(model)
                groups = _membership_values(self.user, self.day, "group_id")
                by_group = group_table.objects.filter(
                    content_object_id__in=pks, group_id__in=groups
                ).values_list("content_object_id", "permission__codename")
                orgs = _membership_values(self.user, self.day, "organization_id")
                at_row = Q()
                for field in ROW_ORGANIZATIONS[model]:
                    at_row |= Q(**{f"content_object__{field}__in": orgs})
                by_user = (
                    user_table.objects.filter(content_object_id__in=pks, user=self.user)
                    .filter(at_row)
                    .values_list("content_object_id", "permission__codename")
                )
                for pk, codename in by_group.union(by_user, all=True):
                    found[pk].add(codename)
            for pk, codes in found.items():
                self._cache[(model, pk)] = codes

    def perms(self, obj) -> set[str]:
        key = (type(obj), obj.pk)
        if key not in self._cache:
            self.prefetch([obj])
        return self._cache[key]

    def has(self, perm: str, obj) -> bool:
        return perm in self.perms(obj)


# --- Grants and revocations: called only by workflow functions ------------------------------


def _perm_name(obj, codename: str) -> str:
    return f"{obj._meta.app_label}.{codename}"


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
    _user_table, group_table = _tables(type(obj))
    group_table.objects.filter(content_object=obj, group__role__organization=organization).delete()


def grant_to_user(obj, user: User, perms: Iterable[str]) -> None:
    if type(obj) in ROLE_GRANTS_ONLY:
        raise TypeError(f"{type(obj).__name__} access is granted to roles, never to a person")
    for codename in perms:
        assign_perm(_perm_name(obj, codename), user, obj)


def revoke_from_user(obj, user: User, perms: Iterable[str] | None = None) -> None:
    for codename in perms or _all_perms(obj):
        remove_perm(_perm_name(obj, codename), user, obj)


def _all_perms(obj) -> tuple[str, ...]:
    return CASE_PERMISSIONS if isinstance(obj, Case) else REFERRAL_PERMISSIONS


def grant_case_to_owner_school(case: Case) -> None:
    """Open a new case to its owner school's coordinator, principal and vice-principal."""
    for role, perms in OWNER_SCHOOL_GRANTS.items():
        grant_to_role(case, case.owner, role, perms)


def grant_case_to_lead_office(case: Case, office: Organization) -> None:
    for role, perms in LEAD_OFFICE_GRANTS.items():
        grant_to_role(case, office, role, perms)


RECEIVER_ROLES_EDUCATION = (Role.CASE_MANAGER, Role.CENTRE_HEAD)
RECEIVER_ROLES_PARTNER = (Role.PARTNER_WORKER, Role.PARTNER_LEAD)


def receiver_roles(organization: Organization) -> tuple[str, ...]:
    if organization.is_education_office:
        return RECEIVER_ROLES_EDUCATION
    return RECEIVER_ROLES_PARTNER


def revoke_referral_from_receiver(referral: Referral) -> None:
    """The receiving organisation loses the referral at once (consent withdrawn)."""
    revoke_from_organization(referral, referral.to_organization)
    user_table, _group_table = _tables(Referral)
    user_table.objects.filter(content_object=referral).delete()


def revoke_case_from_organization(case: Case, organization: Organization) -> None:
    """Every grant on the case held by a role of `organization` or by a person whose only
    tie to the case was that organisation (a transfer's old school)."""
    revoke_from_organization(case, organization)
    user_table, _group_table = _tables(Case)
    members = Membership.objects.filter(organization=organization).values("user_id")
    user_table.objects.filter(content_object=case, user_id__in=members).delete()


def grant_referral_to_receiver(referral: Referral) -> None:
    """Any member of the receiving organisation's casework roles may see and act on it."""
    receiver = referral.to_organization
    for role in receiver_roles(receiver):
        grant_to_role(referral, receiver, role, REFERRAL_PERMISSIONS)
