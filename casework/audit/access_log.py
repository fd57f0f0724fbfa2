"""Access events (every read of personal data) and their keyed hash chain (DESIGN.md §6).

One request writes one row: a list view logs the ids it returned in a single event. Each month is
its own chain, so expiry after two years drops a whole month without breaking the next one.
Each row's hash needs ACCESS_LOG_KEY, which the database never sees (docs/operations.md: access
log); `anchors` publishes each month's head outside the database and verifies the chain.
"""

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from casework.models import AccessChainHead, AccessEvent, Case, Student
from partners.models import Membership, User

GENESIS = "0" * 64


def content(event: AccessEvent) -> dict:
    """What a row's hash covers: every field but its id and its links."""
    return {
        "at": event.occurred_at.isoformat(),
        "partition": event.partition,
        "user": str(event.user_id),
        "membership": str(event.membership_id or ""),
        "action": event.action,
        "type": event.object_type,
        "ids": [str(i) for i in event.object_ids],
        "case": str(event.case_id or ""),
        "student": str(event.student_id or ""),
        "path": event.path,
        "ip": event.ip_address or "",
        "reason": event.reason,
    }


def _content_json(event: AccessEvent) -> bytes:
    return json.dumps(content(event), sort_keys=True).encode()


def content_digest(event: AccessEvent) -> str:
    """The plain hash of a row's content, in a canonical form: the link before the key."""
    return hashlib.sha256(_content_json(event)).hexdigest()


def content_mac(event: AccessEvent) -> str:
    """The keyed hash (HMAC-SHA256 with ACCESS_LOG_KEY) of a row's content, computed here: the
    key never reaches the database, nor any statement text or server log."""
    return hmac.new(
        settings.ACCESS_LOG_KEY.encode(), _content_json(event), hashlib.sha256
    ).hexdigest()


def _link(prev_hash: str, value: str) -> str:
    return hashlib.sha256((prev_hash + value).encode()).hexdigest()


def digest(event: AccessEvent) -> str:
    """The hash of a row: SHA-256 of the previous row's hash followed by its content's HMAC.
    PostgreSQL computes the outer SHA-256 in the statement that appends the row, from the hash it
    reads under lock and the HMAC passed in (`_append_sql`). The HMAC is stored nowhere, so
    without the key nobody can hash a new row, nor re-link an existing one onto another hash
    (after deleting a row before it)."""
    return _link(event.prev_hash, content_mac(event))


def legacy_digest(event: AccessEvent) -> str:
    """How rows were hashed before the head computed the link: content and previous hash in one
    canonical JSON. Still verified, up to a month's first row hashed the current way."""
    fields = {"prev": event.prev_hash, **content(event)}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


# How a row's hash was made, in the order the chain adopted them: within a month a row never goes
# back to an earlier way. Rows not keyed are vouched for by a later keyed row of their month (its
# hash covers theirs) or by an anchor published before anyone could append them the old way.
LEGACY, PLAIN, KEYED = 0, 1, 2


def hash_level(event: AccessEvent, key: bytes) -> int | None:
    """Which way (KEYED, PLAIN or LEGACY) made the row's hash, with `key` as ACCESS_LOG_KEY;
    None when no way gives it: the row was altered."""
    fields = _content_json(event)
    if _link(event.prev_hash, hmac.new(key, fields, hashlib.sha256).hexdigest()) == event.hash:
        return KEYED
    if _link(event.prev_hash, hashlib.sha256(fields).hexdigest()) == event.hash:
        return PLAIN
    if legacy_digest(event) == event.hash:
        return LEGACY
    return None


def _client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _membership_for(
    user: User, case: Case | None, student: Student | None, request=None
) -> Membership | None:
    """The membership the user acted in: one at the case's (or student's) organisation if any."""
    if request is not None and getattr(request, "user", None) == user:
        from partners.context_processors import active_memberships

        memberships = [m for m in active_memberships(request) if m.is_current()]
    else:
        memberships = list(Membership.objects.current().filter(user=user))
    orgs = set()
    if case is not None:
        orgs = {case.owner_id, case.lead_id}
    elif student is not None:
        orgs = {student.school_id}
    for membership in memberships:
        if membership.organization_id in orgs:
            return membership
    return memberships[0] if memberships else None


def record_access(
    user: User,
    action: str,
    object_type: str,
    objects: Iterable = (),
    *,
    case: Case | None = None,
    student: Student | None = None,
    request=None,
    reason: str = "",
    membership: Membership | None = None,
) -> AccessEvent:
    """Append one access event to this month's chain."""
    ids = [str(getattr(obj, "pk", obj)) for obj in objects]
    now = timezone.now()
    partition = timezone.localtime(now).strftime("%Y-%m")
    if membership is None:
        membership = _membership_for(user, case, student, request)
    event = AccessEvent(
        occurred_at=now,
        partition=partition,
        user=user,
        membership=membership,
        action=action,
        object_type=object_type,
        object_ids=ids,
        case=case,
        student=student,
        path=(request.get_full_path()[:300] if request is not None else ""),
        ip_address=_client_ip(request),
        reason=reason,
    )
    _append(event)
    return event


def record_access_at(
    when,
    user: User,
    action: str,
    object_type: str,
    objects: Iterable = (),
    *,
    case: Case | None = None,
    student: Student | None = None,
    membership: Membership | None = None,
    path: str = "",
    ip_address: str | None = None,
    reason: str = "",
) -> AccessEvent:
    """Append one access event that happened at `when` (an aware datetime) to the chain of its
    month: for loading past events (the demo's month of reads), never for a request's own read,
    which `record_access` dates itself. The row goes to the end of its month's chain, which is
    ordered by append, so the chain stays valid whatever the order of `when`."""
    partition = timezone.localtime(when).strftime("%Y-%m")
    if membership is None:
        membership = _membership_for(user, case, student)
    event = AccessEvent(
        occurred_at=when,
        partition=partition,
        user=user,
        membership=membership,
        action=action,
        object_type=object_type,
        object_ids=[str(getattr(obj, "pk", obj)) for obj in objects],
        case=case,
        student=student,
        path=path[:300],
        ip_address=ip_address,
        reason=reason,
    )
    _append(event)
    return event


def _content_fields() -> list:
    return [
        f for f in AccessEvent._meta.concrete_fields if f.name not in ("id", "prev_hash", "hash")
    ]


@lru_cache
def _append_sql() -> str:
    """Lock the month's head (FOR UPDATE waits for a concurrent append and then reads the hash it
    left), move it to the new row's hash (that hash followed by the row's HMAC, `digest`) and
    count the row, and insert the row linked to the hash it replaced: one statement, so no
    transaction or savepoint of its own."""
    fields = _content_fields()
    columns = ", ".join(f.column for f in fields)
    values = ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in fields)
    return (
        "WITH head AS (UPDATE casework_accesschainhead h SET count = h.count + 1, "
        "last_hash = encode(sha256(convert_to(locked.last_hash || %s, 'UTF8')), 'hex') "
        "FROM (SELECT partition, last_hash FROM casework_accesschainhead WHERE partition = %s "
        "FOR UPDATE) locked WHERE h.partition = locked.partition "
        "RETURNING locked.last_hash AS prev_hash, h.last_hash AS hash) "
        f"INSERT INTO casework_accessevent ({columns}, prev_hash, hash) "
        f"SELECT {values}, head.prev_hash, head.hash FROM head RETURNING id, prev_hash, hash"
    )


MONTH = re.compile(r"^\d{4}-\d{2}$")


def partition_table(month: str) -> str:
    """The table holding one month of the access log (the log is partitioned by month)."""
    if not MONTH.match(month):
        raise ValueError(f"not a month (YYYY-MM): {month!r}")
    return f"{AccessEvent._meta.db_table}_p{month.replace('-', '_')}"


def ensure_partition(month: str) -> bool:
    """Create the month's table of the access log if it is missing; True if it was created.
    The daily job creates months ahead, so a request rarely does this. If rows of the month
    already sit in the default partition, the month stays there (PostgreSQL refuses the new
    table) and `casework.audit.partitions` reports it."""
    table = partition_table(month)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        if cursor.fetchone()[0]:
            return False
        with transaction.atomic():  # a concurrent creator may win: then the table is there
            try:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} PARTITION OF "
                    f"{AccessEvent._meta.db_table} FOR VALUES IN ('{month}')"
                )
            except (IntegrityError, ProgrammingError):
                return False
    return True


def _append(event: AccessEvent) -> None:
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in _content_fields()]
    params = [content_mac(event), event.partition, *values]
    with connection.cursor() as cursor:
        cursor.execute(_append_sql(), params)
        found = cursor.fetchone()
        if found is None:  # the month's first event: no head to lock yet (nor, perhaps, table)
            ensure_partition(event.partition)
            AccessChainHead.objects.get_or_create(
                partition=event.partition, defaults={"last_hash": GENESIS}
            )
            cursor.execute(_append_sql(), params)
            found = cursor.fetchone()
    event.id, event.prev_hash, event.hash = found
    event._state.adding = False
