"""The summary report (API.md: GET /api/v1/reports/summary/; DESIGN.md §10; docs/reports.md).

Counts of the cases of the schools a reader may count (`access.report_scope`) over a period,
grouped by school, district, borough, domain, difficulty, status or month, with small cells
suppressed (`suppression`). Two aggregate SQL statements answer it whatever the size of the
data: the rows, and the period's total. They read the report facts (`facts`: a row per case
and per sent referral with its dates worked out, refreshed by a job from what changed), so a
report is as of the facts' last refresh (`as_of`, at most REPORT_FACTS_MAX_AGE_SECONDS old when
the workers keep up).

The figures of a row, for the cases of its group and the period [since, until]:

- `cases`: the cases open at some time in the period (opened on or before `until`, not ended
  before `since`); `cases` = `active` + `closed`.
- `opened`: opened in the period. `closed`: ended in it (closed, or decided not selected).
  `active`: still open at the end of it.
- `escalations`, `referrals`: escalations to the district office and service referrals sent in
  the period; `*_by_outcome` splits them by where they are now (waiting for an answer,
  accepted, completed, declined, cancelled).
- `median_days_to_selection`: from the first concern about the case (or its opening) to its
  selection, for the cases selected in the period; `median_days_to_completion`: from sending
  to completion, for the service referrals completed in the period. A median of fewer than
  five is not shown (None).

Grouped by month, each figure falls in the month of its own date (opened, ended, sent...),
`cases` and `active` per month. By domain or difficulty a case counts in each of its domains
or difficulties (`none` when it has none), so the rows may add up to more than the total.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.utils.translation import gettext as _

from casework.choices import Difficulty, Domain
from casework.models import CaseStatus
from core.replica import reports_database

from . import facts, suppression
from .facts import KINDS, LATERAL, OUTCOME_STATUSES

GROUPS = ("school", "district", "borough", "domain", "difficulty", "status", "month")
OUTCOMES = ("waiting", "accepted", "completed", "declined", "cancelled")
CASE_FIGURES = ("cases", "opened", "closed", "active")
FLOW_FIGURES = ("opened", "closed", "escalations", "referrals")
TOTAL = "__total__"
MIN_MEDIAN = 5


def figures() -> tuple[str, ...]:
    """Every count of a row, as cell names (the outcomes as `<kind>_by_outcome.<outcome>`)."""
    return (
        *CASE_FIGURES,
        "escalations",
        *(f"escalations_by_outcome.{o}" for o in OUTCOMES),
        "referrals",
        *(f"referrals_by_outcome.{o}" for o in OUTCOMES),
    )


FIGURES = figures()


@dataclass(frozen=True)
class Period:
    since: datetime.date
    until: datetime.date


@dataclass(frozen=True)
class Only:
    """Count only the cases with this domain and/or this difficulty (None: any)."""

    domain: str | None = None
    difficulty: str | None = None


ANY = Only()


def default_period(today: datetime.date) -> Period:
    """The half-year `today` falls in (1 January-30 June, 1 July-31 December)."""
    if today.month <= 6:
        return Period(datetime.date(today.year, 1, 1), datetime.date(today.year, 6, 30))
    return Period(datetime.date(today.year, 7, 1), datetime.date(today.year, 12, 31))


# --- SQL ---------------------------------------------------------------------------------------

# The group key of a case row, by grouping ('' for month and the total: the window decides).
KEYS = {
    "school": "c.owner_id::text",
    "district": "coalesce(c.district_id::text, '')",
    "borough": "coalesce(c.borough_id::text, '')",
    "status": "c.status",
    "domain": "k.v",
    "difficulty": "k.v",
    "month": "''",
    TOTAL: "''",
}
LISTS = {"domain": "c.domains", "difficulty": "c.difficulties"}
WINDOWS = {
    "month": """SELECT to_char(m, 'YYYY-MM') AS wkey,
        greatest(m::date, %(since)s) AS ws,
        least((m + interval '1 month')::date - 1, %(until)s) AS we
        FROM generate_series(date_trunc('month', %(since)s::timestamp),
                             %(until)s::timestamp, interval '1 month') AS m""",
    "": "SELECT ''::text AS wkey, %(since)s::date AS ws, %(until)s::date AS we",
}
ORG_GROUPS = ("school", "district", "borough")

SQL = """
WITH win AS ({window}),
base AS (
  SELECT c.id, c.opened_on, {key} AS gkey, c.ended_on, c.selected_at, c.concern_at
  FROM casework_reportcase c
  {lateral}
  WHERE c.owner_id = ANY(%(schools)s::uuid[]) AND c.opened_on <= %(until)s
    AND (%(domain)s::text IS NULL OR c.domains ? %(domain)s::text)
    AND (%(difficulty)s::text IS NULL OR c.difficulties ? %(difficulty)s::text)
),
cm AS (
  SELECT b.gkey, w.wkey,
    count(*) AS cases,
    count(*) FILTER (WHERE b.opened_on >= w.ws) AS opened,
    count(*) FILTER (WHERE b.ended_on <= w.we) AS closed,
    count(*) FILTER (WHERE b.ended_on IS NULL OR b.ended_on > w.we) AS active,
    count(*) FILTER (WHERE (b.selected_at AT TIME ZONE %(tz)s)::date BETWEEN w.ws AND w.we)
      AS selected,
    percentile_cont(0.5) WITHIN GROUP (
      ORDER BY extract(epoch FROM b.selected_at - b.concern_at) / 86400)
      FILTER (WHERE (b.selected_at AT TIME ZONE %(tz)s)::date BETWEEN w.ws AND w.we)
      AS selection_days
  FROM base b JOIN win w ON b.opened_on <= w.we AND (b.ended_on IS NULL OR b.ended_on >= w.ws)
  GROUP BY 1, 2
),
ref AS (
  SELECT b.gkey, r.kind, r.status, r.sent_on, r.closed_on, r.days
  FROM base b JOIN casework_reportreferral r ON r.case_id = b.id
),
rm AS (
  SELECT r.gkey, w.wkey,
    {outcomes},
    count(*) FILTER (WHERE r.kind = 'service' AND r.status = 'completed'
                       AND r.closed_on BETWEEN w.ws AND w.we) AS completed,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY r.days)
      FILTER (WHERE r.kind = 'service' AND r.status = 'completed'
                AND r.closed_on BETWEEN w.ws AND w.we) AS completion_days
  FROM ref r JOIN win w ON r.sent_on BETWEEN w.ws AND w.we OR r.closed_on BETWEEN w.ws AND w.we
  GROUP BY 1, 2
)
SELECT gkey, wkey, {label},
  coalesce(cm.cases, 0), coalesce(cm.opened, 0), coalesce(cm.closed, 0), coalesce(cm.active, 0),
  {coalesced},
  coalesce(cm.selected, 0), cm.selection_days, coalesce(rm.completed, 0), rm.completion_days
FROM cm FULL JOIN rm USING (gkey, wkey)
{label_join}
"""


def _outcome_columns() -> tuple[str, list[str]]:
    columns, names = [], []
    for figure, kind in KINDS.items():
        sent = f"r.kind = '{kind}' AND r.sent_on BETWEEN w.ws AND w.we"
        columns.append(f"count(*) FILTER (WHERE {sent}) AS {figure}")
        names.append(figure)
        for outcome, statuses in OUTCOME_STATUSES.items():
            inside = ", ".join(f"'{s}'" for s in statuses)
            columns.append(
                f"count(*) FILTER (WHERE {sent} AND r.status IN ({inside})) AS {figure}_{outcome}"
            )
            names.append(f"{figure}_{outcome}")
    return ",\n    ".join(columns), names


def statement(group: str) -> str:
    """The SQL of one grouping (or of the period's total, `TOTAL`)."""
    outcomes, names = _outcome_columns()
    org = group in ORG_GROUPS
    return SQL.format(
        window=WINDOWS["month" if group == "month" else ""],
        key=KEYS[group],
        lateral=LATERAL.format(field=LISTS[group]) if group in LISTS else "",
        outcomes=outcomes,
        coalesced=", ".join(f"coalesce(rm.{name}, 0)" for name in names),
        label="lo.name, lo.parent_id::text" if org else "NULL, NULL",
        label_join="LEFT JOIN partners_organization lo ON lo.id::text = gkey" if org else "",
    )


def queries(
    group: str, schools: list, period: Period, only: Only = ANY, cells: "Cells | None" = None
) -> list[tuple[str, dict]]:
    """The statements of one grouping and of the period's total, with their parameters (the
    report's SQL floor in bench/): from the months where they answer, else from the facts."""
    params = {
        "since": period.since,
        "until": period.until,
        "tz": settings.TIME_ZONE,
        "schools": [str(pk) for pk in schools],
        "domain": only.domain,
        "difficulty": only.difficulty,
    }
    if from_months(period, only):
        if cells is not None:
            params |= {"districts": list(cells.districts), "levels": list(cells.levels)}
        return [
            (month_statement(g, cells is not None), {**params, "grouping": MONTH_GROUPINGS[g][0]})
            for g in (group, TOTAL)
        ]
    return [(statement(group), params), (statement(TOTAL), params)]


# --- From the months ----------------------------------------------------------------------------

# What each grouping reads of the months, and the key of its rows.
MONTH_GROUPINGS = {
    "school": ("school", "m.school_id::text"),
    "district": ("school", "coalesce(m.district_id::text, '')"),
    "borough": ("borough", "m.gkey"),
    "status": ("status", "m.gkey"),
    "domain": ("domain", "m.gkey"),
    "difficulty": ("difficulty", "m.gkey"),
    "month": ("school", "''"),
    TOTAL: ("school", "''"),
}
FLOWS_NAMES = tuple(
    f"{figure}{suffix}" for figure in KINDS for suffix in ("", *(f"_{o}" for o in OUTCOMES))
)
COUNTED = ("opened", "ended", "selected", "touched", *FLOWS_NAMES, "completed")
MONTH_SQL = """
WITH m AS ({base}),
counts AS (
  SELECT m.gkey, {wkey} AS wkey,
    sum(m.opened) - coalesce(sum(m.ended) FILTER (WHERE m.month < {ws}), 0) AS cases,
    {in_period},
    sum(m.opened) - sum(m.ended) AS active
  FROM m {windows} GROUP BY 1, 2
),
med AS (
  SELECT {key} AS gkey, {month_key} AS wkey,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY d.v) FILTER (WHERE d.k = 's') AS selection,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY d.v) FILTER (WHERE d.k = 'c') AS completion
  FROM casework_reportmonth m CROSS JOIN LATERAL (
    SELECT 's', unnest(m.selection_days) UNION ALL SELECT 'c', unnest(m.completion_days)
  ) AS d (k, v)
  WHERE {rows} AND m.month >= %(since)s
  GROUP BY 1, 2
)
SELECT counts.gkey, counts.wkey, {label}, counts.cases, counts.opened, counts.ended,
  counts.active, {flows}, counts.selected, med.selection, counts.completed, med.completion
FROM counts LEFT JOIN med USING (gkey, wkey)
{label_join}
WHERE counts.cases > 0 OR counts.touched > 0
"""
MONTH_ROWS = (
    "m.grouping = %(grouping)s AND m.school_id = ANY(%(schools)s::uuid[]) AND m.month <= %(until)s"
)
CELL_ROWS = (
    "m.grouping = %(grouping)s AND m.school_id IS NULL AND (m.district_id, m.school_level)"
    " IN (SELECT * FROM unnest(%(districts)s::uuid[], %(levels)s::text[]))"
    " AND m.month <= %(until)s"
)
# The district offices and school levels the schools make up whole, or None when some are
# only in part (or have no office).
CELLS_SQL = """
SELECT o.parent_id::text, o.school_level, bool_and(o.id = ANY(%(schools)s::uuid[])),
  (SELECT count(*) FROM partners_organization x
    WHERE x.id = ANY(%(schools)s::uuid[]) AND x.parent_id IS NULL)
FROM partners_organization o
WHERE o.kind = 'school' AND o.parent_id IN (
  SELECT parent_id FROM partners_organization WHERE id = ANY(%(schools)s::uuid[]))
  AND EXISTS (SELECT 1 FROM partners_organization y WHERE y.id = ANY(%(schools)s::uuid[])
              AND y.parent_id = o.parent_id AND y.school_level = o.school_level)
GROUP BY 1, 2
"""


@dataclass(frozen=True)
class Cells:
    """Whole district offices and school levels: (office ids, levels), pairwise."""

    districts: tuple
    levels: tuple


def whole_cells(schools: list) -> "Cells | None":
    """The offices and levels that `schools` are exactly, or None (one query)."""
    if not schools:
        return None
    with connections[reports_database()].cursor() as cursor:
        cursor.execute(CELLS_SQL, {"schools": [str(pk) for pk in schools]})
        found = cursor.fetchall()
    if not found or any(not whole or orphans for _, _, whole, orphans in found):
        return None
    return Cells(tuple(r[0] for r in found), tuple(r[1] for r in found))


# By month, a month's row adds up the months up to its own (the cases open in it) and its own.
MONTH_WINDOWS = """JOIN (SELECT m0::date AS ws, (m0 + interval '1 month')::date - 1 AS we
  FROM generate_series(%(since)s::timestamp, %(until)s::timestamp, interval '1 month') AS m0
  ) AS w ON m.month <= w.we"""


def from_months(period: Period, only: Only) -> bool:
    """Whether the months answer: whole months and no filter on domain or difficulty (which
    the facts answer instead)."""
    next_day = period.until + datetime.timedelta(days=1)
    return only == ANY and period.since.day == 1 and next_day.day == 1


def month_statement(group: str, cells: bool = False) -> str:
    """The SQL of one grouping (or the total) read from the months: the schools' months, or
    with `cells` those of whole offices and school levels (not by school)."""
    key = MONTH_GROUPINGS[group][1]
    org = group in ORG_GROUPS
    rows = CELL_ROWS if cells and group != "school" else MONTH_ROWS
    if group == "month":
        sums = ", ".join(f"sum(m.{name}) AS {name}" for name in COUNTED)
        base = f"SELECT ''::text AS gkey, m.month, {sums} FROM casework_reportmonth m"
        base += f" WHERE {rows} GROUP BY m.month"
        ws, wkey, windows = "w.ws", "to_char(w.ws, 'YYYY-MM')", MONTH_WINDOWS
        month_key = "to_char(m.month, 'YYYY-MM')"
    else:
        columns = ", ".join(f"m.{name}" for name in COUNTED)
        base = f"SELECT {key} AS gkey, m.month, {columns} FROM casework_reportmonth m"
        base += f" WHERE {rows}"
        ws, wkey, windows, month_key = "%(since)s", "''", "", "''"
    in_period = ",\n    ".join(
        f"coalesce(sum(m.{name}) FILTER (WHERE m.month >= {ws}), 0) AS {name}" for name in COUNTED
    )
    return MONTH_SQL.format(
        base=base,
        wkey=wkey,
        ws=ws,
        in_period=in_period,
        windows=windows,
        key=key,
        month_key=month_key,
        rows=rows,
        label="lo.name, lo.parent_id::text" if org else "NULL, NULL",
        flows=", ".join(f"counts.{name}" for name in FLOWS_NAMES),
        label_join="LEFT JOIN partners_organization lo ON lo.id::text = counts.gkey" if org else "",
    )


def _fetch(group: str, schools: list, period: Period, only: Only, cells=None) -> list[tuple]:
    sql, params = queries(group, schools, period, only, cells)[0]
    with connections[reports_database()].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- Rows --------------------------------------------------------------------------------------


def _median(value, n: int):
    if value is None or n < MIN_MEDIAN:
        return None
    return round(float(value), 1)


def _counts(raw: tuple) -> tuple[dict[str, int], dict]:
    """The counts of one result row by figure, and its medians."""
    values = raw[4 : 4 + len(FIGURES)]
    names = [*CASE_FIGURES]
    for figure in KINDS:
        names += [figure, *(f"{figure}_by_outcome.{o}" for o in OUTCOMES)]
    counts = dict(zip(names, (int(v) for v in values), strict=True))
    selected, selection, completed, completion = raw[4 + len(FIGURES) :]
    medians = {
        "median_days_to_selection": _median(selection, selected),
        "median_days_to_completion": _median(completion, completed),
    }
    return counts, medians


def _choice_labels(group: str) -> dict[str, str]:
    if group == "domain":
        return {**{c.value: str(c.label) for c in Domain}, "": _("지원 영역 미지정")}
    if group == "difficulty":
        return {**{c.value: str(c.label) for c in Difficulty}, "": _("어려움 유형 미지정")}
    if group == "status":
        return {c.value: str(c.label) for c in CaseStatus}
    return {}


def _months(period: Period) -> list[str]:
    months, day = [], period.since.replace(day=1)
    while day <= period.until:
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


def _empty() -> tuple[dict[str, int], dict]:
    return dict.fromkeys(FIGURES, 0), {
        "median_days_to_selection": None,
        "median_days_to_completion": None,
    }


@dataclass
class Counts:
    """The report before suppression: the row keys in order, their labels, counts and medians,
    the period's total, and (by school) each school's district."""

    keys: list
    labels: dict
    counts: dict
    medians: dict
    total: dict
    total_medians: dict
    parents: dict


def cells_for(schools: list, period: Period, only: Only) -> Cells | None:
    """Whole offices and school levels to read where the months answer (one query)."""
    return whole_cells(schools) if from_months(period, only) else None


def count(
    schools: list,
    group: str,
    period: Period,
    only: Only = ANY,
    *,
    total_rows=None,
    cells=...,
) -> Counts:
    """The exact counts for the schools (ids from `access.report_scope`), grouped by `group`:
    three SQL statements at most (fewer where the period's total, `total_rows`, or the
    offices and levels the schools make up, `cells`, are known already)."""
    if group not in GROUPS:
        raise ValueError(group)
    if cells is ...:
        cells = cells_for(schools, period, only)
    found, labels, parents = {}, {}, {}
    for raw in _fetch(group, schools, period, only, cells):
        key = raw[1] if group == "month" else raw[0]
        found[key] = _counts(raw)
        labels[key], parents[key] = raw[2], raw[3]
    if total_rows is None:
        total_rows = _fetch(TOTAL, schools, period, only, cells)
    total = _counts(total_rows[0]) if total_rows else _empty()

    # Every code of a closed list and every month of the period has its row, zeros included.
    choices = _choice_labels(group)
    if group == "month":
        keys = _months(period)
        labels = {key: key for key in keys}
    elif choices:
        keys = [k for k in choices if k or k in found]
        labels = choices
    else:
        labels = {key: name or _("미상") for key, name in labels.items()}
        keys = sorted(found, key=lambda k: (not k, labels[k], k))
    return Counts(
        keys=keys,
        labels=labels,
        counts={key: found.get(key, _empty())[0] for key in keys},
        medians={key: found.get(key, _empty())[1] for key in keys},
        total=total[0],
        total_medians=total[1],
        parents=parents,
    )


def summaries(schools: list, groups, period: Period, only: Only = ANY) -> dict[str, dict]:
    """Several groupings of one period (a dashboard): one statement each and one for the total
    they share."""
    as_of = facts.ensure_fresh()
    cells = cells_for(schools, period, only)
    total_rows = _fetch(TOTAL, schools, period, only, cells)
    return {
        g: summary(schools, g, period, only, total_rows=total_rows, as_of=as_of, cells=cells)
        for g in groups
    }


def summary(
    schools: list,
    group: str,
    period: Period,
    only: Only = ANY,
    *,
    total_rows=None,
    as_of=...,
    cells=...,
) -> dict:
    """The report as the API answers it: the counts of `count`, small cells suppressed, and
    the time of the facts it counts (`as_of`, given by `summaries`)."""
    if as_of is ...:
        as_of = facts.ensure_fresh()
    counted = count(schools, group, period, only, total_rows=total_rows, cells=cells)
    table, hidden = hide(group, counted.counts, counted.total, counted.parents)
    shown = suppression.apply(table, hidden)
    rows = [
        {
            "key": key or "none",
            "label": str(counted.labels.get(key, key)),
            **_row({name: shown[(key, name)] for name in FIGURES}),
            **counted.medians[key],
        }
        for key in counted.keys
    ]
    return {
        "group_by": group,
        "since": period.since.isoformat(),
        "until": period.until.isoformat(),
        "rows": rows,
        "total": {
            **_row({name: shown[(TOTAL, name)] for name in FIGURES}),
            **counted.total_medians,
        },
        "suppressed": bool(hidden),
        "as_of": as_of.isoformat() if as_of else None,
    }


def _row(counts: dict) -> dict:
    """A row's counts as the API shows them: the outcomes nested by kind."""
    row = {name: counts[name] for name in (*CASE_FIGURES, *KINDS)}
    for figure in KINDS:
        row[f"{figure}_by_outcome"] = {o: counts[f"{figure}_by_outcome.{o}"] for o in OUTCOMES}
    return row


# --- What a reader could add up --------------------------------------------------------------


def hide(group: str, counts: dict, total: dict, parents: dict) -> tuple[dict, set]:
    """The table of a grouping as cells ((row key, figure) → count; the total row's key is
    TOTAL) and the cells to hide. The rows are taken in the order of their keys, so that the
    same counts hide the same cells whatever their labels: the district grouping worked out
    here for the schools' sake is the one the district grouping answers."""
    keys = sorted(counts)
    table = {(TOTAL, name): n for name, n in total.items()}
    for key in keys:
        for name in FIGURES:
            table[(key, name)] = counts[key][name]
    subtotals: list = []
    if group == "school":
        by_district: dict = {}
        for key in keys:
            by_district.setdefault(parents.get(key) or "", []).append(key)
        districts = {
            district: {name: sum(counts[k][name] for k in members) for name in FIGURES}
            for district, members in by_district.items()
        }
        district_table, district_hidden = hide("district", districts, total, {})
        for district, members in by_district.items():
            for name in FIGURES:
                if (district, name) not in district_hidden:
                    parts = tuple((key, name) for key in members)
                    subtotals.append(
                        suppression.Line(parts, known=district_table[(district, name)])
                    )
    hidden = suppression.suppress_table(
        table, [*lines(group, keys), *subtotals], totals=[(TOTAL, name) for name in FIGURES]
    )
    return table, hidden


def lines(group: str, keys: list) -> list[suppression.Line]:
    """Every sum a reader could take of the report, as suppression lines:

    - in each row (and the total): cases = active + closed; escalations and referrals = the sum
      of their outcomes;
    - down each column: the rows add up to the total (counted as if they did for the domains
      and difficulties too, where a case may sit in several rows; and for the months only the
      figures that flow: what was opened, ended or sent in the month).

    By school, `hide` adds what the district grouping of the same period shows: the schools
    of a district add up to its row there, where that is shown.
    """
    result = []
    for row in (*keys, TOTAL):
        result.append(suppression.Line(((row, "active"), (row, "closed")), total=(row, "cases")))
        for figure in KINDS:
            parts = tuple((row, f"{figure}_by_outcome.{o}") for o in OUTCOMES)
            result.append(suppression.Line(parts, total=(row, figure)))
    down = FIGURES
    if group == "month":
        down = tuple(f for f in FIGURES if f not in ("cases", "active"))
    for name in down:
        result.append(suppression.Line(tuple((row, name) for row in keys), total=(TOTAL, name)))
    return result


def school_ids(scope) -> list:
    """The ids of the schools of a report scope (one query)."""
    return list(scope.values_list("pk", flat=True)) if scope is not None else []


__all__ = [
    "ANY",
    "GROUPS",
    "TOTAL",
    "Counts",
    "Only",
    "Period",
    "count",
    "default_period",
    "hide",
    "lines",
    "queries",
    "school_ids",
    "summaries",
    "summary",
]
