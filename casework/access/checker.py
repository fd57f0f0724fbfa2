"""Per-request permission cache: one checker per request, never one per object (DESIGN.md §5)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db.models import CharField, Q, Value
from django.utils import timezone

from casework.models import BreakGlass, Case
from partners.models import User, today

from . import roles as r
from .sql import ROW_ORGANIZATIONS, membership_values, signed_in, tables


class AccessChecker:
    """`prefetch(objects)` loads the user's permissions on a whole page of cases or referrals
    in two queries; `perms(obj)` then answers without a query."""

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
            if signed_in(self.user):
                user_table, group_table = tables(model)
                groups = membership_values(self.user, self.day, "group_id")
                by_group = group_table.objects.filter(
                    content_object_id__in=pks, group_id__in=groups
                ).values_list("content_object_id", "permission__codename")
                orgs = membership_values(self.user, self.day, "organization_id")
                at_row = Q()
                for field in ROW_ORGANIZATIONS[model]:
                    at_row |= Q(**{f"content_object__{field}__in": orgs})
                by_user = (
                    user_table.objects.filter(content_object_id__in=pks, user=self.user)
                    .filter(at_row)
                    .values_list("content_object_id", "permission__codename")
                )
                parts = [by_user]
                if model is Case:
                    parts += self._break_glass(pks)
                for pk, codename in by_group.union(*parts, all=True):
                    found[pk].add(codename)
            for pk, codes in found.items():
                self._cache[(model, pk)] = codes

    def _break_glass(self, pks) -> list:
        """`view_case` on the cases of `pks` the user reads by break-glass, as one more part of
        the same statement (sql.break_glass_sql says when an opening counts); nothing at all for
        a user without a role that may open one."""
        if self.day is not None and self.day != today():
            return []
        memberships = membership_values(self.user, None, "id", roles=r.BREAK_GLASS_ROLES)
        if isinstance(memberships, list) and not memberships:
            return []
        opened = BreakGlass.objects.filter(
            case_id__in=pks,
            user=self.user,
            ended_at__isnull=True,
            expires_at__gt=timezone.now(),
            membership_id__in=memberships,
        )
        view = Value(r.VIEW_CASE, output_field=CharField())
        return [opened.annotate(codename=view).values_list("case_id", "codename")]

    def perms(self, obj) -> set[str]:
        key = (type(obj), obj.pk)
        if key not in self._cache:
            self.prefetch([obj])
        return self._cache[key]

    def has(self, perm: str, obj) -> bool:
        return perm in self.perms(obj)
