"""The report facts (casework.models.reports; DESIGN.md §10; docs/reports.md "갱신").

The summary report and the dashboards aggregate one narrow row per case and per sent referral
(`casework_reportcase`, `casework_reportreferral`) in which what every request used to work
out from the cases, their decisions and their concerns is worked out once: when the case ended,
when it was selected, when the first concern about it came. A job keeps them current:

- `refresh()` (beat `refresh-report-facts`, every minute, and whenever a report is read and the
  facts are older than REPORT_FACTS_MAX_AGE_SECONDS) redoes the rows of the cases that changed:
  every change of a case, a decision, a concern, a referral, a student or a school leaves a
  history row, so the cases with history newer than the last refresh (less an overlap for
  transactions still open then) are the ones to redo. A case that is gone (erased) loses its
  rows. Set-based: five statements whatever the number of cases.
- `rebuild()` (beat `rebuild-report-facts`, nightly, and the first refresh of a database)
  redoes every row, for what history cannot point at.

Both run in one transaction on the primary: a reader sees the facts before or after, never
half. A refresh already running makes another return at once (the state row's lock).
"""

import datetime
import logging

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from casework.queue import enqueue
from core.replica import reports_database

logger = logging.getLogger(__name__)

REFRESH_TASK = "casework.tasks.refresh_report_facts"  # enqueued by name (casework.queue)
# A transaction that wrote history before the last refresh began but committed after it was
# not yet visible to it: the next refresh looks this far back as well.
OVERLAP = datetime.timedelta(minutes=10)

CASE_COLUMNS = (
    "id, owner_id, district_id, borough_id, status, opened_on, ended_on, selected_at,"
    " concern_at, domains, difficulties"
)
CASE_FACTS = f"""
INSERT INTO casework_reportcase ({CASE_COLUMNS})
SELECT c.id, c.owner_id, o.parent_id, s.home_borough_id, c.status, c.opened_on,
  CASE WHEN c.status = 'closed' THEN c.closed_on
       WHEN c.status = 'not_selected' THEN coalesce(
         (SELECT min(d.decided_at AT TIME ZONE %(tz)s)::date FROM casework_decision d
           WHERE d.case_id = c.id AND d.decision = 'not_select'),
         (c.updated_at AT TIME ZONE %(tz)s)::date)
  END,
  (SELECT min(d.decided_at) FROM casework_decision d
    WHERE d.case_id = c.id AND d.decision = 'select'),
  least(c.created_at, (SELECT min(cn.created_at) FROM casework_concern cn
                        WHERE cn.case_id = c.id)),
  c.domains, c.difficulties
FROM casework_case c
JOIN partners_organization o ON o.id = c.owner_id
JOIN casework_student s ON s.id = c.student_id
{{where}}
"""
REFERRAL_FACTS = """
INSERT INTO casework_reportreferral (id, case_id, kind, status, sent_on, closed_on, days)
SELECT r.id, r.case_id, r.kind, r.status,
  (r.sent_at AT TIME ZONE %(tz)s)::date, (r.closed_at AT TIME ZONE %(tz)s)::date,
  extract(epoch FROM r.closed_at - r.sent_at) / 86400
FROM casework_referral r
WHERE r.sent_at IS NOT NULL {where}
"""
# The cases whose facts may have changed since `since`: what their history says.
DIRTY = """
CREATE TEMPORARY TABLE report_dirty ON COMMIT DROP AS
SELECT DISTINCT id FROM (
  SELECT id FROM casework_historicalcase WHERE history_date > %(since)s AND history_date <= %(until)s
  UNION ALL
  SELECT case_id FROM casework_historicaldecision WHERE history_date > %(since)s AND history_date <= %(until)s
  UNION ALL
  SELECT case_id FROM casework_historicalreferral WHERE history_date > %(since)s AND history_date <= %(until)s
  UNION ALL  -- a concern moved from one case to another changes both
  SELECT h.case_id FROM casework_historicalconcern h
   WHERE h.id IN (SELECT id FROM casework_historicalconcern WHERE history_date > %(since)s AND history_date <= %(until)s)
  UNION ALL
  SELECT c.id FROM casework_case c
   WHERE c.student_id IN (SELECT id FROM casework_historicalstudent
                           WHERE history_date > %(since)s AND history_date <= %(until)s)
      OR c.owner_id IN (SELECT id FROM partners_historicalorganization
                         WHERE history_date > %(since)s AND history_date <= %(until)s)
) AS changed (id) WHERE id IS NOT NULL
"""

# --- The months ----------------------------------------------------------------------------

OUTCOME_STATUSES = {  # where a referral is now, by outcome (the summary's outcomes)
    "waiting": ("sent", "received"),
    "accepted": ("accepted", "in_progress"),
    "completed": ("completed",),
    "declined": ("declined",),
    "cancelled": ("cancelled",),
}
KINDS = {"escalations": "escalation", "referrals": "service"}
COUNTS = (
    "opened",
    "ended",
    "selected",
    "touched",
    *(
        f"{figure}{suffix}"
        for figure in KINDS
        for suffix in ("", *(f"_{o}" for o in OUTCOME_STATUSES))
    ),
    "completed",
)
# A case counts once in each of its domains or difficulties; '' when it has none.
LATERAL = """CROSS JOIN LATERAL (SELECT DISTINCT e.v FROM jsonb_array_elements_text(
    CASE WHEN jsonb_typeof({field}) = 'array' AND jsonb_array_length({field}) > 0
         THEN {field} ELSE '[""]'::jsonb END) AS e(v)) AS k(v)"""


def _sent_counts() -> dict:
    counts = {"touched": "1"}
    for figure, kind in KINDS.items():
        counts[figure] = f"(r.kind = '{kind}')::int"
        for outcome, statuses in OUTCOME_STATUSES.items():
            inside = ", ".join(f"'{s}'" for s in statuses)
            counts[f"{figure}_{outcome}"] = f"(r.kind = '{kind}' AND r.status IN ({inside}))::int"
    return counts


COMPLETED = "r.kind = 'service' AND r.status = 'completed'"
# The events of a case that the months count: (month, counts, days to selection, to completion).
EVENTS = (
    ("date_trunc('month', g.opened_on)", "", {"opened": "1"}, "NULL", "NULL"),
    (
        "date_trunc('month', g.ended_on)",
        "WHERE g.ended_on IS NOT NULL",
        {"ended": "1"},
        "NULL",
        "NULL",
    ),
    (
        "date_trunc('month', (g.selected_at AT TIME ZONE %(tz)s)::date)",
        "WHERE g.selected_at IS NOT NULL",
        {"selected": "1"},
        "extract(epoch FROM g.selected_at - g.concern_at) / 86400",
        "NULL",
    ),
    (
        "date_trunc('month', r.sent_on)",
        "JOIN casework_reportreferral r ON r.case_id = g.id",
        _sent_counts(),
        "NULL",
        "NULL",
    ),
    (
        "date_trunc('month', r.closed_on)",
        "JOIN casework_reportreferral r ON r.case_id = g.id WHERE r.closed_on IS NOT NULL",
        {"touched": "1", "completed": f"({COMPLETED})::int"},
        "NULL",
        f"CASE WHEN {COMPLETED} THEN r.days END",
    ),
)


def _event(month, tail, counts, selection, completion) -> str:
    columns = ", ".join(f"{counts.get(name, '0')} AS {name}" for name in COUNTS)
    return (
        f"SELECT g.grouping, g.gkey, g.owner_id, g.district_id, g.school_level,"
        f" ({month})::date AS month, "
        f"{columns}, ({selection})::float8 AS sday, ({completion})::float8 AS cday "
        f"FROM g {tail}"
    )


MONTHS = f"""
WITH c AS (
  SELECT f.*, o.school_level FROM casework_reportcase f
  JOIN partners_organization o ON o.id = f.owner_id {{where}}
),
g AS (
  SELECT 'school'::text AS grouping, ''::text AS gkey, c.* FROM c
  UNION ALL SELECT 'borough', coalesce(c.borough_id::text, ''), c.* FROM c
  UNION ALL SELECT 'status', c.status, c.* FROM c
  UNION ALL SELECT 'domain', k.v, c.* FROM c {LATERAL.format(field="c.domains")}
  UNION ALL SELECT 'difficulty', k.v, c.* FROM c {LATERAL.format(field="c.difficulties")}
),
ev AS (
  {" UNION ALL ".join(_event(*event) for event in EVENTS)}
)
INSERT INTO casework_reportmonth (grouping, gkey, school_id, district_id, school_level, month,
  {", ".join(COUNTS)}, selection_days, completion_days)
SELECT grouping, gkey, owner_id, district_id, school_level, month,
  {", ".join(f"sum({name})" for name in COUNTS)},
  coalesce(array_agg(sday ORDER BY sday) FILTER (WHERE sday IS NOT NULL), '{{{{}}}}'),
  coalesce(array_agg(cday ORDER BY cday) FILTER (WHERE cday IS NOT NULL), '{{{{}}}}')
FROM ev GROUP BY 1, 2, 3, 4, 5, 6
"""
# The months of whole district offices and school levels: the sums of their schools' months.
CELLS = f"""
INSERT INTO casework_reportmonth (grouping, gkey, school_id, district_id, school_level, month,
  {", ".join(COUNTS)}, selection_days, completion_days)
SELECT grouping, gkey, NULL, district_id, school_level, month,
  {", ".join(f"sum({name})" for name in COUNTS)},
  casework_array_cat_agg(selection_days), casework_array_cat_agg(completion_days)
FROM casework_reportmonth WHERE school_id IS NOT NULL {{where}}
GROUP BY grouping, gkey, district_id, school_level, month
"""


def _claim(cursor):
    """Lock the state row (made the first time); None when another refresh holds it."""
    # Adding up the months sorts millions of rows at the Seoul tier: in memory, not on disk.
    cursor.execute("SET LOCAL work_mem = %s", [settings.REPORT_FACTS_WORK_MEM])
    cursor.execute("INSERT INTO casework_reportfacts (id) VALUES (1) ON CONFLICT (id) DO NOTHING")
    cursor.execute("SELECT through FROM casework_reportfacts WHERE id = 1 FOR UPDATE SKIP LOCKED")
    return cursor.fetchone()


def _params(**more) -> dict:
    return {"tz": settings.TIME_ZONE, **more}


def rebuild() -> dict | None:
    """Redo every fact row; the counts, or None if a refresh was running."""
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        if _claim(cursor) is None:
            return None
        return _rebuild(cursor)


def _rebuild(cursor) -> dict:
    cursor.execute("SELECT clock_timestamp()")
    started = cursor.fetchone()[0]
    cursor.execute("DELETE FROM casework_reportreferral")
    cursor.execute("DELETE FROM casework_reportcase")
    cursor.execute(CASE_FACTS.format(where=""), _params())
    cases = cursor.rowcount
    cursor.execute(REFERRAL_FACTS.format(where=""), _params())
    referrals = cursor.rowcount
    cursor.execute("DELETE FROM casework_reportmonth")
    cursor.execute(MONTHS.format(where=""), _params())
    cursor.execute(CELLS.format(where=""))
    cursor.execute(
        "UPDATE casework_reportfacts SET through = %s, refreshed_at = clock_timestamp(),"
        " rebuilt_at = clock_timestamp() WHERE id = 1",
        [started],
    )
    return {"rebuilt": True, "cases": cases, "referrals": referrals}


def refresh() -> dict | None:
    """Redo the fact rows of the cases changed since the last refresh (everything the first
    time); the counts, or None if another refresh was running."""
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        claimed = _claim(cursor)
        if claimed is None:
            return None
        if claimed[0] is None:
            return _rebuild(cursor)
        cursor.execute("SELECT clock_timestamp()")
        started = cursor.fetchone()[0]
        # History dated ahead of the clock (an import's planned dates) counts once it is due.
        cursor.execute(DIRTY, {"since": claimed[0] - OVERLAP, "until": started})
        changed = cursor.rowcount
        # The schools whose months change: those of the changed cases, before and after.
        cursor.execute(
            "CREATE TEMPORARY TABLE report_schools ON COMMIT DROP AS SELECT DISTINCT owner_id"
            " AS id FROM casework_reportcase WHERE id IN (SELECT id FROM report_dirty)"
        )
        cursor.execute(
            "DELETE FROM casework_reportreferral WHERE case_id IN (SELECT id FROM report_dirty)"
        )
        cursor.execute("DELETE FROM casework_reportcase WHERE id IN (SELECT id FROM report_dirty)")
        cursor.execute(
            CASE_FACTS.format(where="WHERE c.id IN (SELECT id FROM report_dirty)"), _params()
        )
        cursor.execute(
            REFERRAL_FACTS.format(where="AND r.case_id IN (SELECT id FROM report_dirty)"),
            _params(),
        )
        cursor.execute(
            "INSERT INTO report_schools SELECT DISTINCT owner_id FROM casework_reportcase"
            " WHERE id IN (SELECT id FROM report_dirty)"
        )
        cursor.execute(
            "DELETE FROM casework_reportmonth WHERE school_id IN (SELECT id FROM report_schools)"
        )
        cursor.execute(
            MONTHS.format(where="WHERE f.owner_id IN (SELECT id FROM report_schools)"), _params()
        )
        cells = (
            "AND (district_id, school_level) IN (SELECT o.parent_id, o.school_level"
            " FROM partners_organization o WHERE o.id IN (SELECT id FROM report_schools))"
        )
        cursor.execute(f"DELETE FROM casework_reportmonth WHERE school_id IS NULL {cells}")
        cursor.execute(CELLS.format(where=cells))
        cursor.execute(
            "UPDATE casework_reportfacts SET through = %s, refreshed_at = clock_timestamp()"
            " WHERE id = 1",
            [started],
        )
        return {"rebuilt": False, "cases": changed}


def as_of() -> datetime.datetime | None:
    """When the facts the reports read were last refreshed (None: never)."""
    with connections[reports_database()].cursor() as cursor:
        cursor.execute("SELECT refreshed_at FROM casework_reportfacts WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def ensure_fresh(*, now=None) -> datetime.datetime | None:
    """The time the facts are as of, after asking for a refresh when they are older than
    REPORT_FACTS_MAX_AGE_SECONDS (or were never made). The refresh runs on a worker; the
    reader gets what is there now and the next one the refreshed facts (at once where tasks
    run in the caller, as in the demo). A broker that cannot be reached leaves the facts as
    they are: the minute's beat refreshes them once it is back."""
    now = now or timezone.now()
    stamp = as_of()
    if stamp is not None and now - stamp <= datetime.timedelta(
        seconds=settings.REPORT_FACTS_MAX_AGE_SECONDS
    ):
        return stamp
    try:
        enqueue(REFRESH_TASK, retry=False)
    except Exception:  # a broker outage must not fail a read
        logger.warning("report facts refresh not queued", exc_info=True)
        return stamp
    return as_of()


__all__ = ["as_of", "ensure_fresh", "rebuild", "refresh"]
