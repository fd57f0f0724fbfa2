"""The access log: two years of reads, hash-chained per monthly partition with the log's own
chain function, and each month's chain head."""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from casework import audit
from casework.models import AccessChainHead, AccessEvent

from .base import Load


def build_access_events(load: Load, cases: list[dict]) -> None:
    """Hash-chained per month like audit.record_access writes them, over two years."""
    t = load.tier
    if not t.access_events:
        return
    months = 24
    per_month = max(1, t.access_events // months)
    sample = cases if len(cases) < 50_000 else load.rng.sample(cases, 50_000)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('casework_accessevent', 'id'))")
        next_id = cursor.fetchone()[0]
    columns = [
        "id",
        "occurred_at",
        "partition",
        "user_id",
        "membership_id",
        "action",
        "object_type",
        "object_ids",
        "case_id",
        "student_id",
        "path",
        "ip_address",
        "reason",
        "prev_hash",
        "hash",
    ]
    heads = []
    for m in range(months, 0, -1):  # each month's table first: COPY cannot wait for DDL
        year, month = divmod(load.now.year * 12 + load.now.month - 1 - m, 12)
        start = datetime(year, month + 1, 1, tzinfo=UTC)
        audit.ensure_partition(timezone.localtime(start + timedelta(days=2)).strftime("%Y-%m"))

    def events():
        nonlocal next_id
        for m in range(months, 0, -1):
            year, month = divmod(load.now.year * 12 + load.now.month - 1 - m, 12)
            start = datetime(year, month + 1, 1, tzinfo=UTC)
            partition = timezone.localtime(start + timedelta(days=2)).strftime("%Y-%m")
            head = AccessChainHead.objects.filter(partition=partition).first()
            prev = head.last_hash if head else audit.GENESIS
            count = head.count if head else 0
            times = sorted(
                start + timedelta(days=2, seconds=load.rng.randint(0, 24 * 86_400))
                for _ in range(per_month)
            )
            for when in times:
                case = load.rng.choice(sample)
                event = AccessEvent(
                    id=next_id,
                    occurred_at=when,
                    partition=partition,
                    user_id=case["coordinator_id"],
                    membership_id=None,
                    action="view",
                    object_type="case",
                    object_ids=[str(case["id"])],
                    case_id=case["id"],
                    student_id=case["student_id"],
                    path=f"/casework/cases/{case['id']}/",
                    ip_address="10.0.0.1",
                    reason="",
                    prev_hash=prev,
                )
                event.hash = audit.digest(event)
                prev = event.hash
                yield tuple(getattr(event, c) for c in columns)
                next_id += 1
                count += 1
            heads.append((partition, prev, count))

    total = load.copier.copy_tuples(AccessEvent, columns, events())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('casework_accessevent', 'id'), %s)", [next_id]
        )
    for partition, last, count in heads:
        AccessChainHead.objects.update_or_create(
            partition=partition, defaults={"last_hash": last, "count": count}
        )
    load.progress(f"access events: {total} in {months} monthly chains")
