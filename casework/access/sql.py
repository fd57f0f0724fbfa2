"""The grant subqueries in SQL: which rows a user's current memberships and grants reach.

Every list and check of a page runs through these. They are written as SQL because the ORM
spent more time compiling the union of the two grant tables than PostgreSQL spent running it,
several times per request. guardian's own lookups follow `user.groups`, which cannot know that
a data-handling approval expired, a membership ended or security training lapsed; these join
guardian's direct-FK tables to the user's *current* memberships instead (DESIGN.md §2, §5).
"""

from datetime import date

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from casework.models import (
    BreakGlass,
    Case,
    CaseGroupObjectPermission,
    CaseUserObjectPermission,
    Referral,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)
from partners.memberships import memoized_current_memberships
from partners.models import Membership, User, today, training_cutoff

from . import roles as r

Sql = tuple[str, list]

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


def signed_in(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def tables(model):
    """guardian's (user, group) direct-FK permission tables of `model`."""
    if model is Case:
        return CaseUserObjectPermission, CaseGroupObjectPermission
    if model is Referral:
        return ReferralUserObjectPermission, ReferralGroupObjectPermission
    raise TypeError(f"no object permissions for {model.__name__}")


def current_memberships(user: User, day: date | None = None) -> QuerySet[Membership]:
    """The memberships that contribute access today (`Membership.objects.current`)."""
    if not signed_in(user):
        return Membership.objects.none()
    return Membership.objects.current(day).filter(user=user)


def membership_values(user: User, day: date | None, field: str, roles=None):
    """`field` (group_id, organization_id) of the user's current memberships, as literal values
    when the request has already read them (partners.memberships), else as a subquery."""
    rows = memoized_current_memberships(user, day)
    if rows is None:
        memberships = current_memberships(user, day)
        if roles is not None:
            memberships = memberships.filter(role__in=list(roles))
        return memberships.values(field)
    return sorted({getattr(m, field) for m in rows if roles is None or m.role in roles}, key=str)


def membership_value_set(user: User, field: str, roles=None) -> set:
    """`field` of the user's current memberships today, as a set of values."""
    values = membership_values(user, None, field, roles)
    if isinstance(values, list):
        return set(values)
    return {row[field] for row in values}


def column(model, attname: str) -> str:
    return model._meta.get_field(attname.removesuffix("_id")).column


def db_value(model, field: str, value):
    target = model._meta.get_field(field)
    target = getattr(target, "target_field", target)
    return target.get_db_prep_value(value, connection, prepared=False)


def membership_sql(user: User, day: date | None, field: str, roles=None) -> Sql | None:
    """What goes inside `IN (...)` for `field` of the user's current memberships: literal values
    from the request's memo (no join for PostgreSQL to plan), else a subquery with the same
    conditions as `Membership.objects.current`. None when the user has no such membership."""
    col = column(Membership, field)
    rows = memoized_current_memberships(user, day)
    if rows is not None:
        values = sorted(
            {getattr(m, field) for m in rows if roles is None or m.role in roles}, key=str
        )
        if not values:
            return None
        marks = ", ".join(["%s"] * len(values))
        return marks, [db_value(Membership, field.removesuffix("_id"), v) for v in values]
    day = day or today()
    on_day = connection.ops.adapt_datefield_value(day)
    sql = (
        f"SELECT m.{col} FROM {Membership._meta.db_table} m WHERE m.user_id = %s "
        "AND m.active = %s AND m.started_on <= %s AND (m.ended_on IS NULL OR m.ended_on >= %s) "
        "AND m.approved_on IS NOT NULL AND m.approved_on <= %s AND m.approval_expires_on >= %s"
    )
    params = [db_value(Membership, "user", user.pk), True] + [on_day] * 4
    cutoff = training_cutoff(day)
    if cutoff is not None:
        sql += " AND m.training_completed_on >= %s"
        params.append(connection.ops.adapt_datefield_value(cutoff))
    if roles is not None:
        sql += f" AND m.role IN ({', '.join(['%s'] * len(roles))})"
        params += list(roles)
    return sql, params


def grants_sql(model, user: User, codename: str, day: date | None = None) -> Sql | None:
    """The ids of `model` rows on which the user holds `codename`: through a current
    membership's role group, or through a user grant while a current member of one of the row's
    organisations. A UNION ALL of the two grant tables, each read through its (group|user,
    permission, object) index, so that a list is a semi-join driven by the user's grants rather
    than a scan of every row (an OR of two EXISTS cannot be planned as a semi-join). The
    permission is a one-row subquery, planned once per statement. None: no row can match."""
    user_table, group_table = tables(model)
    permission = (
        f"(SELECT p.id FROM {Permission._meta.db_table} p "
        f"INNER JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id "
        "WHERE ct.app_label = %s AND ct.model = %s AND p.codename = %s)"
    )
    permission_params = [model._meta.app_label, model._meta.model_name, codename]
    by_group = by_user = None
    groups = membership_sql(user, day, "group_id")
    if groups is not None:
        by_group = (
            f"SELECT g.content_object_id FROM {group_table._meta.db_table} g "
            f"WHERE g.permission_id = {permission} AND g.group_id IN ({groups[0]})",
            permission_params + groups[1],
        )
    orgs = membership_sql(user, day, "organization_id")
    if orgs is not None and model not in ROLE_GRANTS_ONLY:
        at_row = " OR ".join(
            f"r.{column(model, f)} IN ({orgs[0]})" for f in ROW_ORGANIZATIONS[model]
        )
        by_user = (
            f"SELECT u.content_object_id FROM {user_table._meta.db_table} u "
            f"INNER JOIN {model._meta.db_table} r ON r.{model._meta.pk.column} = u.content_object_id "
            f"WHERE u.permission_id = {permission} AND u.user_id = %s AND ({at_row})",
            permission_params
            + [db_value(user_table, "user", user.pk)]
            + orgs[1] * len(ROW_ORGANIZATIONS[model]),
        )
    by_break_glass = None
    if model is Case and codename == r.VIEW_CASE:
        by_break_glass = break_glass_sql(user, day)
    return union(by_group, by_user, by_break_glass)


def break_glass_sql(user: User, day: date | None = None) -> Sql | None:
    """The cases the user reads by break-glass (DESIGN.md §5): openings not ended nor expired,
    made through a membership still current in a role that may open one. They add `view_case`
    and nothing else. None when the user holds no such membership (no other part of a
    statement changes for everyone else) or when asked about another day."""
    if day is not None and day != today():
        return None
    memberships = membership_sql(user, None, "id", roles=r.BREAK_GLASS_ROLES)
    if memberships is None:
        return None
    return (
        f"SELECT b.{column(BreakGlass, 'case_id')} FROM {BreakGlass._meta.db_table} b "
        f"WHERE b.{column(BreakGlass, 'user_id')} = %s AND b.ended_at IS NULL "
        f"AND b.expires_at > %s AND b.{column(BreakGlass, 'membership_id')} IN ({memberships[0]})",
        [db_value(BreakGlass, "user", user.pk), timezone.now(), *memberships[1]],
    )


def union(*parts: Sql | None) -> Sql | None:
    """UNION ALL of the parts that can match anything; None if none can."""
    found = [part for part in parts if part is not None]
    if not found:
        return None
    return " UNION ALL ".join(sql for sql, _params in found), [v for _sql, ps in found for v in ps]


def among(field: str, sql: Sql | None) -> Q:
    """`field IN (<sql>)`, or a condition no row meets."""
    if sql is None:
        return Q(**{f"{field}__in": []})
    return Q(**{f"{field}__in": RawSQL(*sql)})


def grant_exists(model, user: User, codename: str, day: date | None = None) -> Q:
    """One condition for a queryset of `model`: the row is among the user's grants."""
    return among("pk", grants_sql(model, user, codename, day))


def visible(model, user, codename: str) -> QuerySet:
    if not signed_in(user):
        return model.objects.none()
    return model.objects.filter(grant_exists(model, user, codename))
