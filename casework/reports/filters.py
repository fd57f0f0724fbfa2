"""What a reader asks of a report, read from a query string (the API's and the dashboard's):
the grouping, the period, and the filters — district office, school level, domain, difficulty.

The schools a report counts are the reader's scope (`access.report_scope`) narrowed by the
district office and the school level asked for; a district outside the scope is refused like
an unknown one. Every bad value is a `ValidationError` naming its parameter (a 400 on the API,
an error beside the field on the page)."""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from casework.choices import Difficulty, Domain
from partners.choices import SchoolLevel
from partners.models import Organization

from .summary import GROUPS, Only, Period, default_period, school_ids

# The longest period one report covers (five years): enough for trends, never a scan of all
# time in one request.
MAX_DAYS = 5 * 366
HALF = re.compile(r"^(\d{4})H([12])$")


@dataclass(frozen=True)
class Asked:
    group: str
    period: Period
    only: Only
    schools: list
    district: Organization | None = None
    level: str | None = None
    half: str | None = None


def half_of(day: datetime.date) -> str:
    return f"{day.year}H{1 if day.month <= 6 else 2}"


def period_of_half(value: str) -> Period | None:
    found = HALF.match(value)
    if not found or not 2000 <= int(found[1]) <= 2100:
        return None
    return default_period(datetime.date(int(found[1]), 1 if found[2] == "1" else 7, 1))


def recent_halves(today: datetime.date, n: int = 6) -> list[str]:
    """The half-year of `today` and the n-1 before it, newest first."""
    halves, day = [], today
    for _n in range(n):
        halves.append(half_of(day))
        day = default_period(day).since - datetime.timedelta(days=1)
    return halves


def _date(params, name: str) -> datetime.date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: [_("날짜는 YYYY-MM-DD 형식으로 적어 주세요.")]}) from None


def period_of(params, today: datetime.date) -> tuple[Period, str | None]:
    """The period of `?half=` (e.g. 2026H2) or `?since=&until=` (ISO dates, both included).
    Missing all: the current half-year; missing one date: the half-year of the other."""
    half = (params.get("half") or "").strip()
    if half:
        period = period_of_half(half)
        if period is None:
            raise ValidationError({"half": [_("반기는 2026H1, 2026H2처럼 적어 주세요.")]})
        return period, half
    since, until = _date(params, "since"), _date(params, "until")
    if since is None and until is None:
        return default_period(today), half_of(today)
    if since is None:
        since = default_period(until).since
    if until is None:
        until = default_period(since).until
    if since > until:
        raise ValidationError({"since": [_("시작일은 종료일보다 늦을 수 없습니다.")]})
    if (until - since).days > MAX_DAYS:
        raise ValidationError({"until": [_("기간은 5년을 넘을 수 없습니다.")]})
    return Period(since, until), None


def _choice(params, name: str, choices) -> str | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if value not in choices.values:
        raise ValidationError({name: [_("목록에 있는 값을 골라 주세요.")]})
    return value


def districts(scope) -> list[Organization]:
    """The district offices over the schools of a scope, by name (the dashboard's choices)."""
    return list(
        Organization.objects.filter(pk__in=scope.values("parent_id"))
        .only("pk", "name", "kind")
        .order_by("name")
    )


def read(params, scope, today: datetime.date, *, default_group: str = "school") -> Asked:
    """The report asked for by `params` over `scope` (a queryset of schools)."""
    group = (params.get("group_by") or default_group).strip()
    if group not in GROUPS:
        raise ValidationError(
            {
                "group_by": [
                    _("다음 중 하나로 적어 주세요: %(groups)s") % {"groups": ", ".join(GROUPS)}
                ]
            }
        )
    period, half = period_of(params, today)
    only = Only(
        domain=_choice(params, "domain", Domain),
        difficulty=_choice(params, "difficulty", Difficulty),
    )
    level = _choice(params, "school_level", SchoolLevel)
    district = None
    wanted = (params.get("district") or "").strip()
    if wanted:
        district = next((d for d in districts(scope) if str(d.pk) == wanted), None)
        if district is None:
            raise ValidationError({"district": [_("볼 수 있는 교육지원청이 아닙니다.")]})
        scope = scope.filter(parent=district)
    if level:
        scope = scope.filter(school_level=level)
    return Asked(group, period, only, school_ids(scope), district, level, half)
