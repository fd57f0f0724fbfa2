"""The access log's monthly tables: created ahead, and dropped whole once past ACCESS_LOG_YEARS.

The log is a PostgreSQL table partitioned by `partition` (YYYY-MM; migration 0013). A daily job
(`maintain`) creates this month's and the next two months' tables, and drops the tables of the
months older than the keeping period: it first records the expiry in the anchor stores outside
the database (so the month's absence no longer reads as a truncation), then drops the table and
its chain head, and writes one `DestructionRecord` per month. Rows are never deleted one by one:
the append-only trigger refuses that.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from casework.models import AccessChainHead, AccessEvent, DestructionRecord

from .access_log import ensure_partition, partition_table
from .anchors import expire_month

logger = logging.getLogger(__name__)
AHEAD = 3  # this month and the next two
DEFAULT = f"{AccessEvent._meta.db_table}_pdefault"


def month_of(day: datetime.date, shift: int = 0) -> str:
    year, number = divmod(day.year * 12 + day.month - 1 + shift, 12)
    return f"{year:04d}-{number + 1:02d}"


def keep_months() -> int:
    return settings.ACCESS_LOG_YEARS * 12


def months() -> dict[str, str]:
    """The monthly tables that exist: month → table name."""
    parent = AccessEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [parent],
        )
        found = {}
        for name, bound in cursor.fetchall():
            if name != DEFAULT and "'" in bound:
                found[bound.split("'")[1]] = name
    return found


def stranded() -> dict[str, int]:
    """Months whose rows sit in the default table (their own table was missing when they were
    written): month → rows. Empty when the daily job runs."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT partition, count(*) FROM {DEFAULT} GROUP BY partition")
        return dict(cursor.fetchall())


@dataclass
class Maintenance:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    stranded: dict[str, int] = field(default_factory=dict)


def expired_months(today: datetime.date | None = None) -> list[str]:
    """Months whose table is past the keeping period (older than ACCESS_LOG_YEARS)."""
    today = today or timezone.localdate()
    last_kept = month_of(today, -keep_months())
    return sorted(month for month in months() if month < last_kept)


def next_expiry(today: datetime.date | None = None) -> tuple[str, datetime.date] | None:
    """The oldest month of the log and the day the daily job drops it (None: no months)."""
    today = today or timezone.localdate()
    present = sorted(months())
    if not present:
        return None
    oldest = present[0]
    year, number = (int(part) for part in oldest.split("-"))
    index = year * 12 + number - 1 + keep_months() + 1
    return oldest, datetime.date(index // 12, index % 12 + 1, 1)


def drop_month(month: str, today: datetime.date | None = None) -> DestructionRecord:
    """Drop one expired month's table, after recording its expiry outside the database."""
    today = today or timezone.localdate()
    if month not in expired_months(today):
        raise ValueError(f"{month}: not past the keeping period of the access log")
    table = partition_table(month)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            rows = cursor.fetchone()[0]
        expire_month(month, today)
        with connection.cursor() as cursor:
            # Deferred foreign-key checks of rows written earlier in this transaction would
            # otherwise block the drop ("pending trigger events"): run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"DROP TABLE {table}")
        AccessChainHead.objects.filter(partition=month).delete()
        year, number = (int(p) for p in month.split("-"))
        return DestructionRecord.objects.create(
            object_type="access_log_month",
            object_id=uuid.uuid5(uuid.NAMESPACE_URL, f"ieum:access-log:{month}"),
            object_label=f"{month} ({rows:,})",
            parts=["access_events"],
            action=DestructionRecord.Action.DESTROYED,
            rule=DestructionRecord.Rule.ACCESS_LOG_EXPIRY,
            rule_detail=f"ACCESS_LOG_YEARS={settings.ACCESS_LOG_YEARS}",
            due_on=datetime.date(year + settings.ACCESS_LOG_YEARS, number, 1),
            destroyed_at=timezone.now(),
        )


def maintain(today: datetime.date | None = None) -> Maintenance:
    """The daily job: create the months ahead, drop the expired ones, report stranded rows."""
    today = today or timezone.localdate()
    result = Maintenance()
    for shift in range(AHEAD):
        month = month_of(today, shift)
        if ensure_partition(month):
            result.created.append(month)
    for month in expired_months(today):
        drop_month(month, today)
        result.dropped.append(month)
    result.stranded = stranded()
    for month, count in result.stranded.items():
        logger.warning("access log: %s rows of %s in the default partition", count, month)
    return result
