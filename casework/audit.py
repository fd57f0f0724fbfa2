"""Access events (every read of personal data) and their keyed hash chain (DESIGN.md §6).

One request writes one row: a list view logs the ids it returned in a single event. Each month is
its own chain, so expiry after two years drops a whole month without breaking the next one.
Each row's hash needs ACCESS_LOG_KEY, which the database never sees, and each month's head is
published outside the database (ACCESS_LOG_ANCHORS) so that a cut tail shows too
(docs/operations.md: access log).
"""

import datetime
import decimal
import fcntl
import hashlib
import hmac
import json
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from partners.models import Membership, User

from .models import AccessChainHead, AccessEvent, Case, ReferralKind, ReferralStatus, Student

GENESIS = "0" * 64
logger = logging.getLogger(__name__)


def _content(event: AccessEvent) -> dict:
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
    return json.dumps(_content(event), sort_keys=True).encode()


def _content_digest(event: AccessEvent) -> str:
    """The plain hash of a row's content, in a canonical form: the link before the key."""
    return hashlib.sha256(_content_json(event)).hexdigest()


def _content_mac(event: AccessEvent) -> str:
    """The keyed hash (HMAC-SHA256 with ACCESS_LOG_KEY) of a row's content, computed here: the
    key never reaches the database, nor any statement text or server log."""
    return hmac.new(
        settings.ACCESS_LOG_KEY.encode(), _content_json(event), hashlib.sha256
    ).hexdigest()


def _link(prev_hash: str, value: str) -> str:
    return hashlib.sha256((prev_hash + value).encode()).hexdigest()


def _digest(event: AccessEvent) -> str:
    """The hash of a row: SHA-256 of the previous row's hash followed by its content's HMAC.
    PostgreSQL computes the outer SHA-256 in the statement that appends the row, from the hash it
    reads under lock and the HMAC passed in (`_append_sql`). The HMAC is stored nowhere, so
    without the key nobody can hash a new row, nor re-link an existing one onto another hash
    (after deleting a row before it)."""
    return _link(event.prev_hash, _content_mac(event))


def _legacy_digest(event: AccessEvent) -> str:
    """How rows were hashed before the head computed the link: content and previous hash in one
    canonical JSON. Still verified, up to a month's first row hashed the current way."""
    content = {"prev": event.prev_hash, **_content(event)}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


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
    if connection.vendor == "postgresql":
        _append_pg(event)
        return event
    with transaction.atomic():
        head, _created = AccessChainHead.objects.select_for_update().get_or_create(
            partition=partition, defaults={"last_hash": GENESIS}
        )
        event.prev_hash = head.last_hash
        event.hash = _digest(event)
        event.save(force_insert=True)
        head.last_hash = event.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return event


def _content_fields() -> list:
    return [
        f for f in AccessEvent._meta.concrete_fields if f.name not in ("id", "prev_hash", "hash")
    ]


@lru_cache
def _append_sql() -> str:
    """Lock the month's head (FOR UPDATE waits for a concurrent append and then reads the hash it
    left), move it to the new row's hash (that hash followed by the row's HMAC, `_digest`) and
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


def _append_pg(event: AccessEvent) -> None:
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in _content_fields()]
    params = [_content_mac(event), event.partition, *values]
    with connection.cursor() as cursor:
        cursor.execute(_append_sql(), params)
        found = cursor.fetchone()
        if found is None:  # the month's first event: no head to lock yet
            AccessChainHead.objects.get_or_create(
                partition=event.partition, defaults={"last_hash": GENESIS}
            )
            cursor.execute(_append_sql(), params)
            found = cursor.fetchone()
    event.id, event.prev_hash, event.hash = found
    event._state.adding = False


@dataclass
class ChainProblem:
    partition: str
    event_id: int | None
    problem: str
    # Only a month hashed before the key with no anchor yet: `anchor_access_log --seal-legacy`
    # vouches for it once, at the switch-over.
    sealable: bool = False

    def __str__(self):
        where = f" event {self.event_id}" if self.event_id else ""
        return f"{self.partition}{where}: {self.problem}"


# How a row's hash was made, in the order the chain adopted them: within a month a row never goes
# back to an earlier way. Rows not keyed are vouched for by a later keyed row of their month (its
# hash covers theirs) or by an anchor published before anyone could append them the old way.
LEGACY, PLAIN, KEYED = 0, 1, 2
UNANCHORED = "rows hashed without ACCESS_LOG_KEY and not anchored"


def _level(event: AccessEvent, key: bytes) -> int | None:
    content = _content_json(event)
    if _link(event.prev_hash, hmac.new(key, content, hashlib.sha256).hexdigest()) == event.hash:
        return KEYED
    if _link(event.prev_hash, hashlib.sha256(content).hexdigest()) == event.hash:
        return PLAIN
    if _legacy_digest(event) == event.hash:
        return LEGACY
    return None


def _check_month(partition, rows, head, anchors, expired, key) -> tuple[int, list[ChainProblem]]:
    """Walk one month's rows (in id order) against its head and its anchors."""
    problems = []
    live = [] if expired else sorted({(a.count, a.digest) for a in anchors if not a.expired})
    wanted = {count for count, _digest in live} | ({head.count} if head else set())
    hashes, ids = {}, {}  # of the rows at the anchored positions, and of those just after
    prev, count, top, keyed = GENESIS, 0, LEGACY, False
    for event in rows:
        count += 1
        if event.prev_hash != prev:
            problems.append(ChainProblem(partition, event.id, "link broken"))
        level = _level(event, key)
        if level is None or level < top:
            problems.append(ChainProblem(partition, event.id, "content altered"))
        else:
            top, keyed = level, keyed or level == KEYED
        prev = event.hash
        if count in wanted:
            hashes[count] = event.hash
        if count - 1 in wanted or count == 1:
            ids[count] = event.id

    anchored = 0  # rows an anchor vouches for
    if live:
        most = live[-1][0]
        if count == 0:
            problems.append(
                ChainProblem(
                    partition, None, f"all rows gone: the anchor of this month counted {most} rows"
                )
            )
        elif count < most:
            problems.append(
                ChainProblem(
                    partition,
                    None,
                    f"rows missing: the anchor of this month counted {most} rows, {count} are left",
                )
            )
        for anchor_count, digest in live:
            if anchor_count > count:
                break
            if hashes.get(anchor_count) != digest:
                problems.append(
                    ChainProblem(
                        partition,
                        None,
                        f"rows rewritten: row {anchor_count} is not the one the anchor of this "
                        "month counted",
                    )
                )
                break
            anchored = anchor_count
    if count > anchored and not keyed and top < KEYED and count > 0:
        unvouched = ids.get(anchored + 1)
        if not any(p.event_id == unvouched for p in problems):
            problems.append(ChainProblem(partition, unvouched, UNANCHORED, sealable=True))

    if head is None:
        if count:
            problems.append(ChainProblem(partition, None, "rows without a chain head"))
    elif count < head.count:
        problems.append(ChainProblem(partition, None, "rows missing at the end"))
    elif hashes.get(head.count, GENESIS) != head.last_hash:
        # More rows than the head counted are appends after the head was read.
        problems.append(ChainProblem(partition, None, "chain head does not match its rows"))
    return count, problems


def _verify(partition, anchors, heads=None) -> tuple[int, list[ChainProblem]]:
    key = settings.ACCESS_LOG_KEY.encode()
    by_month, expired = defaultdict(list), set()
    for anchor in anchors:
        if partition is None or anchor.month == partition:
            by_month[anchor.month].append(anchor)
            if anchor.expired:
                expired.add(anchor.month)
    if heads is None:  # read before the rows: rows appended meanwhile only add to the walk
        found = AccessChainHead.objects.all()
        if partition:
            found = found.filter(partition=partition)
        heads = {head.partition: head for head in found}
    rows = AccessEvent.objects.order_by("partition", "id")
    if partition:
        rows = rows.filter(partition=partition)
    checked, problems, walked = 0, [], set()
    for month, group in groupby(rows.iterator(chunk_size=2000), key=attrgetter("partition")):
        walked.add(month)
        args = (heads.get(month), by_month[month], month in expired, key)
        count, found = _check_month(month, group, *args)
        checked += count
        problems += found
    for month in sorted((set(heads) | set(by_month)) - walked):
        problems += _check_month(
            month, (), heads.get(month), by_month[month], month in expired, key
        )[1]
    problems.sort(key=attrgetter("partition"))
    return checked, problems


def verify_chain(
    partition: str | None = None, anchors: list["Anchor"] | None = None
) -> tuple[int, list[ChainProblem]]:
    """Walk every month that has rows, a head or an anchor (or only `partition`), and report
    rows whose keyed hash or link does not hold, heads that do not match their rows, months with
    rows and no head, and months shorter than, or different from, what their anchors published
    (a cut tail, a rewritten one, both tables emptied). `anchors` defaults to the readable
    stores of ACCESS_LOG_ANCHORS. Returns (rows checked, problems)."""
    return _verify(partition, load_anchors() if anchors is None else anchors)


# --- Anchors: each month's head published outside the database -------------------------------

ANCHOR_MARK = "ieum-access-log-anchor "
KEEP_MONTHS = 24  # PIPA: access logs kept at least two years (DESIGN.md §6)


class AnchorError(Exception):
    """The anchor store is missing, unreadable or refuses the request."""


@dataclass(frozen=True)
class Anchor:
    month: str
    count: int = 0
    digest: str = ""
    at: str = ""
    expired: bool = False

    def line(self) -> str:
        if self.expired:
            data = {"month": self.month, "expired": True, "at": self.at}
        else:
            data = {"month": self.month, "count": self.count, "digest": self.digest, "at": self.at}
        return ANCHOR_MARK + json.dumps(data, sort_keys=True)


@dataclass
class AnchorRun:
    published: list[Anchor] = field(default_factory=list)
    unchanged: int = 0
    refused: list[ChainProblem] = field(default_factory=list)


def _destinations() -> list[str]:
    return [d.strip() for d in (settings.ACCESS_LOG_ANCHORS or "").split(",") if d.strip()]


def _is_syslog(destination: str) -> bool:
    return destination == "syslog" or destination.startswith("syslog:")


def anchor_files() -> list[Path]:
    """The file stores of ACCESS_LOG_ANCHORS (a relative path is under the checkout)."""
    paths = []
    for destination in _destinations():
        if not _is_syslog(destination):
            path = Path(destination)
            paths.append(path if path.is_absolute() else Path(settings.BASE_DIR) / path)
    return paths


def anchors_unreadable() -> bool:
    """True when anchors go only to syslog, which the verification cannot read back."""
    return bool(_destinations()) and not anchor_files()


def parse_anchors(lines: Iterable[str], source: str = "") -> list[Anchor]:
    """Anchor records from a store's lines (or an export of the syslog lines), oldest first."""
    anchors = []
    for number, line in enumerate(lines, 1):
        if ANCHOR_MARK not in line:
            continue
        try:
            data = json.loads(line.split(ANCHOR_MARK, 1)[1])
            anchors.append(
                Anchor(
                    month=str(data["month"]),
                    count=int(data.get("count", 0)),
                    digest=str(data.get("digest", "")),
                    at=str(data.get("at", "")),
                    expired=bool(data.get("expired", False)),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise AnchorError(f"{source or 'anchors'} line {number}: unreadable anchor") from error
    return anchors


def load_anchors(paths: Iterable[Path] | None = None) -> list[Anchor]:
    """Every anchor of the file stores (or of `paths`); a store not written yet has none."""
    anchors = []
    for path in anchor_files() if paths is None else paths:
        try:
            with open(path, encoding="utf-8") as store:
                anchors += parse_anchors(store, str(path))
        except FileNotFoundError:
            continue
        except OSError as error:
            raise AnchorError(f"{path}: {error}") from error
    return anchors


def _open_stores(stack: ExitStack, paths: list[Path]) -> list:
    """Open each file store for appending only, locked against a concurrent run."""
    handles = []
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        handle = stack.enter_context(os.fdopen(descriptor, "a", encoding="utf-8"))
        fcntl.flock(handle, fcntl.LOCK_EX)
        handles.append(handle)
    return handles


def _syslog_send(destination: str, lines: list[str]) -> None:
    """Send each line to syslog (facility authpriv): `syslog` is the local socket /dev/log,
    `syslog:/path` another local socket, `syslog:host[:port]` a remote one over UDP."""
    target = destination.partition(":")[2] or "/dev/log"
    priority = 10 * 8 + 6  # authpriv.info
    messages = [f"<{priority}>ieum: {line}".encode() for line in lines]
    if target.startswith("/"):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(target)
                for message in messages:
                    sock.send(message)
        except OSError as error:
            if error.errno != 91:  # EPROTOTYPE: a stream socket
                raise AnchorError(f"{destination}: {error}") from error
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(target)
                sock.sendall(b"".join(m + b"\0" for m in messages))
        return
    host, _sep, port = target.rpartition(":") if ":" in target else (target, "", "514")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for message in messages:
                sock.sendto(message, (host, int(port)))
    except (OSError, ValueError) as error:
        raise AnchorError(f"{destination}: {error}") from error


def _publish(stores, destinations, anchors: list[Anchor]) -> None:
    lines = [anchor.line() for anchor in anchors]
    if not lines:
        return
    for handle in stores:
        handle.write("".join(line + "\n" for line in lines))
        handle.flush()
        os.fsync(handle.fileno())
    for destination in destinations:
        if _is_syslog(destination):
            _syslog_send(destination, lines)


def publish_anchors(*, seal_legacy: bool = False) -> AnchorRun:
    """Publish each month's head (month, count, digest) to ACCESS_LOG_ANCHORS, appending.

    A month whose head equals its latest anchor in a file store is skipped, so a second run with
    nothing new writes nothing (syslog cannot be read back: with syslog alone, every month is
    sent each run). A month is anchored only once it verifies: the anchor never vouches for a
    broken chain. `seal_legacy` (once, at the switch-over to the key) anchors months hashed
    before the key, whose only problem is that nothing vouches for them yet."""
    destinations = _destinations()
    if not destinations:
        raise AnchorError("ACCESS_LOG_ANCHORS is empty: nowhere to publish the heads")
    run = AnchorRun()
    with ExitStack() as stack:
        stores = _open_stores(stack, anchor_files())
        known = load_anchors()
        latest = {anchor.month: anchor for anchor in known}
        at = timezone.localtime().isoformat(timespec="seconds")
        for head in AccessChainHead.objects.filter(count__gt=0).order_by("partition"):
            last = latest.get(head.partition)
            if last and (last.count, last.digest, last.expired) == (
                head.count,
                head.last_hash,
                False,
            ):
                run.unchanged += 1
                continue
            _checked, problems = _verify(head.partition, known, {head.partition: head})
            blocking = [p for p in problems if not (seal_legacy and p.sealable)]
            if blocking:
                run.refused += blocking
                continue
            run.published.append(Anchor(head.partition, head.count, head.last_hash, at))
        _publish(stores, destinations, run.published)
    for problem in run.refused:
        logger.error("access log not anchored: %s", problem)
    return run


def expire_month(month: str) -> Anchor:
    """Record in the anchor stores that a month's rows are dropped at expiry, so that their
    absence is no longer a truncation. Refused for a month still within the keeping period."""
    try:
        year, number = (int(part) for part in month.split("-"))
        datetime.date(year, number, 1)
    except ValueError as error:
        raise AnchorError(f"{month}: not a month (YYYY-MM)") from error
    today = timezone.localdate()
    age = (today.year * 12 + today.month) - (year * 12 + number)
    if age <= KEEP_MONTHS:
        raise AnchorError(f"{month}: access logs are kept {KEEP_MONTHS} months after their month")
    destinations = _destinations()
    if not destinations:
        raise AnchorError("ACCESS_LOG_ANCHORS is empty: nowhere to record the expiry")
    anchor = Anchor(month, at=timezone.localtime().isoformat(timespec="seconds"), expired=True)
    with ExitStack() as stack:
        _publish(_open_stores(stack, anchor_files()), destinations, [anchor])
    return anchor


# --- History and timeline --------------------------------------------------------------------

# Related records whose history belongs to the case's history, with the path to the case.
CASE_HISTORY_SOURCES = (
    ("case", "Case", "id"),
    ("team", "CaseMember", "case_id"),
    ("participant", "CaseParticipant", "case_id"),
    ("plan", "SupportPlan", "case_id"),
    ("consent", "Consent", "case_id"),
    ("decision", "Decision", "case_id"),
    ("assessment", "Assessment", "case_id"),
    ("note", "Note", "case_id"),
)
# Never shown in a diff: bookkeeping, or content shown elsewhere under its own access rules.
HIDDEN_FIELDS = {"updated_at", "created_at", "version", "body", "answers", "document"}


@dataclass
class Change:
    field: str
    old: object
    new: object


@dataclass
class HistoryEntry:
    at: object
    source: str
    object_id: str
    action: str  # created / changed / deleted
    user_id: object
    user_name: str
    reason: str
    changes: list[Change]
    snapshot: dict | None = None  # the row's fields (referral events of the timeline)


def _history_rows(case: Case):
    from django.apps import apps

    for source, model_name, fk in CASE_HISTORY_SOURCES:
        model = apps.get_model("casework", model_name)
        yield source, model.history.filter(**{fk: case.pk}).select_related("history_user")


HISTORY_COLUMNS = {
    "history_id",
    "history_date",
    "history_type",
    "history_user_id",
    "history_change_reason",
}


def _history_union(case: Case, sources) -> list[dict]:
    """Every history row of the case's records in one UNION ALL query (PostgreSQL), each row's
    fields as JSON: the timeline costs one query whatever the number of record types."""
    from django.apps import apps
    from django.db import connection

    parts, params = [], []
    for source, model_name, fk in sources:
        table = apps.get_model("casework", model_name).history.model._meta.db_table
        parts.append(
            f"SELECT %s AS source, h.history_id, h.history_date, h.history_type, "
            f"h.history_user_id, COALESCE(NULLIF(u.name, ''), u.username) AS user_name, "
            f"h.history_change_reason, to_jsonb(h) AS data FROM {table} h "
            f"LEFT JOIN partners_user u ON u.id = h.history_user_id WHERE h.{fk} = %s"
        )
        params += [source, case.pk]
    sql = " UNION ALL ".join(parts) + " ORDER BY history_date, history_id"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _field_names(model_name: str) -> list[tuple[str, str]]:
    from django.apps import apps

    model = apps.get_model("casework", model_name).history.model
    return [
        (f.column, f.name)
        for f in model._meta.concrete_fields
        if f.column not in HISTORY_COLUMNS and f.name not in HIDDEN_FIELDS
    ]


def _case_history_pg(case: Case, sources) -> list[HistoryEntry]:
    fields = {source: _field_names(model_name) for source, model_name, _fk in sources}
    entries, previous = [], {}
    for row in _history_union(case, sources):
        source, data = row["source"], row["data"]
        if isinstance(data, str):  # Django leaves jsonb undecoded on its connections
            data = json.loads(data)
        key = (source, data["id"])
        before = previous.get(key)
        changes = []
        if before is not None:
            changes = [
                Change(name, before.get(column), data.get(column))
                for column, name in fields[source]
                if before.get(column) != data.get(column)
            ]
            if not changes and row["history_type"] == "~" and source != "referral":
                previous[key] = data
                continue
        previous[key] = data
        entries.append(
            HistoryEntry(
                at=row["history_date"],
                source=source,
                object_id=str(data["id"]),
                action={"+": "created", "~": "changed", "-": "deleted"}[row["history_type"]],
                user_id=row["history_user_id"],
                user_name=row["user_name"] or "",
                reason=row["history_change_reason"] or "",
                changes=changes,
                snapshot=data if source == "referral" else None,
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


REFERRAL_HISTORY_SOURCE = (("referral", "Referral", "case_id"),)


def _without_hidden_notes(entries: list[HistoryEntry], hidden_notes) -> list[HistoryEntry]:
    hidden = {str(pk) for pk in hidden_notes}
    if not hidden:
        return entries
    return [e for e in entries if not (e.source == "note" and e.object_id in hidden)]


def case_history(case: Case, *, hidden_notes: Iterable = ()) -> list[HistoryEntry]:
    """Field-level changes of the case and its records, newest first (who, when, what, why).
    `hidden_notes` are the ids of notes the reader may not read (`access.hidden_note_ids`):
    their entries are left out, so that nothing tells of them (DESIGN.md §3 Note)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        entries = _case_history_pg(case, CASE_HISTORY_SOURCES)
        return _without_hidden_notes(entries, hidden_notes)
    entries: list[HistoryEntry] = []
    for source, rows in _history_rows(case):
        previous: dict = {}
        for row in rows.order_by("history_date", "history_id"):
            key = row.id
            before = previous.get(key)
            changes = []
            if before is not None:
                delta = row.diff_against(before)
                changes = [
                    Change(c.field, c.old, c.new)
                    for c in delta.changes
                    if c.field not in HIDDEN_FIELDS
                ]
                if not changes and row.history_type == "~":
                    previous[key] = row
                    continue
            action = {"+": "created", "~": "changed", "-": "deleted"}[row.history_type]
            entries.append(
                HistoryEntry(
                    at=row.history_date,
                    source=source,
                    object_id=str(key),
                    action=action,
                    user_id=row.history_user_id,
                    user_name=str(row.history_user) if row.history_user_id else "",
                    reason=row.history_change_reason or "",
                    changes=changes,
                )
            )
            previous[key] = row
    entries.sort(key=lambda e: e.at, reverse=True)
    return _without_hidden_notes(entries, hidden_notes)


@dataclass
class TimelineEntry:
    at: object
    kind: str  # history / referral / access
    summary: str
    user_name: str
    detail: dict


# Order of the kinds among entries of the same instant: history, then referrals, then reads.
HISTORY, REFERRAL, ACCESS = 0, 1, 2
TIMELINE_SOURCES = CASE_HISTORY_SOURCES + REFERRAL_HISTORY_SOURCE
HISTORY_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@lru_cache
def _timeline_labels(language: str) -> dict:
    """Every label the timeline shows, translated once per language rather than once per row."""
    return {
        "sources": {
            "case": _("사례"),
            "team": _("팀"),
            "participant": _("참여 기관"),
            "plan": _("지원 계획"),
            "consent": _("동의"),
            "decision": _("결정"),
            "assessment": _("평가"),
            "note": _("기록"),
        },
        "actions": {"created": _("추가"), "changed": _("변경"), "deleted": _("삭제")},
        "referral": _("의뢰"),
        "kinds": {value: str(label) for value, label in ReferralKind.choices},
        "statuses": {value: str(label) for value, label in ReferralStatus.choices},
        "reads": {value: str(label) for value, label in AccessEvent.Action.choices},
    }


@lru_cache
def _visible_fields(model_name: str) -> tuple[tuple[str, str, str], ...]:
    """(column, name, attname) of the history fields a diff shows, in model order."""
    from django.apps import apps

    model = apps.get_model("casework", model_name).history.model
    return tuple(
        (f.column, f.name, f.attname)
        for f in model._meta.concrete_fields
        if f.column not in HISTORY_COLUMNS and f.name not in HIDDEN_FIELDS
    )


def _visible_json(alias: str, model_name: str) -> str:
    """A history row's visible fields as one jsonb value. Built field by field, not as
    `to_jsonb(row) - hidden`, so that only what a diff shows can make a row count as changed;
    in chunks, as a function takes at most 100 arguments."""
    pairs = [
        f"'{column}', {alias}.{column}" for column, _name, _attname in _visible_fields(model_name)
    ]
    chunks = [pairs[i : i + 40] for i in range(0, len(pairs), 40)]
    return " || ".join(f"jsonb_build_object({', '.join(chunk)})" for chunk in chunks)


def _history_branch(source: str, model_name: str, fk: str, *, count: bool) -> str:
    """One record type's history rows of a case (params: case id, for notes the ids of those the
    reader may not read, then the row limit unless counting). A "~" row whose visible fields
    equal the previous version's is dropped here, so counts and pages agree with what is shown;
    referral rows are events and are all kept."""
    from django.apps import apps

    table = apps.get_model("casework", model_name).history.model._meta.db_table
    rows = (
        "SELECT h.id AS object_id, h.history_id, h.history_date, h.history_type, "
        f"h.history_user_id, h.history_change_reason, {_visible_json('h', model_name)} AS data "
        f"FROM {table} h WHERE h.{fk} = %s"
    )
    if source == NOTE_SOURCE:
        rows += HIDDEN_NOTE_ROWS
    if source == "referral":
        selected = f"SELECT r.*, NULL::jsonb AS prev FROM ({rows}) r"
    else:
        selected = (
            "SELECT r.* FROM (SELECT v.*, LAG(v.data) OVER (PARTITION BY v.object_id "
            f"ORDER BY v.history_date, v.history_id) AS prev FROM ({rows}) v) r "
            "WHERE r.history_type <> '~' OR r.prev IS NULL OR r.data IS DISTINCT FROM r.prev"
        )
    if count:
        return selected
    src = [s for s, _m, _f in TIMELINE_SOURCES].index(source)
    rank = REFERRAL if source == "referral" else HISTORY
    return (
        f"(SELECT {rank} AS rank, t.history_date AS at, t.history_id::bigint AS tie, {src} AS src, "
        "t.history_type, t.history_user_id AS user_id, t.history_change_reason AS reason, "
        "t.data, t.prev, NULL::varchar AS action, NULL::varchar AS object_type "
        f"FROM ({selected}) t ORDER BY t.history_date DESC, t.history_id LIMIT %s)"
    )


# The reader's hidden notes (one array parameter, empty for a reader who reads them all): their
# history rows, and the access events that name one of them, are not part of the timeline.
NOTE_SOURCE = "note"
HIDDEN_NOTE_ROWS = " AND NOT (h.id = ANY(%s::uuid[]))"
HIDDEN_NOTE_READS = " AND NOT (e.object_ids ?| %s::text[])"
ACCESS_BRANCH = (
    f"(SELECT {ACCESS} AS rank, e.occurred_at AS at, -e.id AS tie, 0 AS src, NULL AS history_type, "
    "e.user_id, NULL AS reason, NULL::jsonb AS data, NULL::jsonb AS prev, e.action, "
    f"e.object_type FROM casework_accessevent e WHERE e.case_id = %s{HIDDEN_NOTE_READS} "
    "ORDER BY e.occurred_at DESC, e.id DESC LIMIT %s)"
)


@lru_cache
def _timeline_sql(include_access: bool) -> tuple[str, str]:
    """The page query and the count query of a case's timeline (PostgreSQL). Each branch is
    ordered and cut to offset + limit rows before the merge, so a page costs what it shows (and
    what precedes it), not the case's whole past."""
    branches = [_history_branch(*source, count=False) for source in TIMELINE_SOURCES]
    if include_access:
        branches.append(ACCESS_BRANCH)
    page = (
        "SELECT t.rank, t.at, t.src, t.history_type, "
        "COALESCE(NULLIF(u.name, ''), u.username) AS user_name, t.reason, t.data, t.prev, "
        f"t.action, t.object_type FROM ({' UNION ALL '.join(branches)}) t "
        f"LEFT JOIN {User._meta.db_table} u ON u.id = t.user_id "
        "ORDER BY t.at DESC, t.rank, t.tie, t.src LIMIT %s OFFSET %s"
    )
    counted = " UNION ALL ".join(
        f"SELECT 1 FROM ({_history_branch(*source, count=True)}) c" for source in TIMELINE_SOURCES
    )
    total = f"SELECT (SELECT count(*) FROM ({counted}) h)"
    if include_access:
        total += (
            " + (SELECT count(*) FROM casework_accessevent e "
            f"WHERE e.case_id = %s{HIDDEN_NOTE_READS})"
        )
    return page, total


def _json_value(value):
    """A field value as PostgreSQL's to_jsonb gives it back, so both paths show the same diff."""
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.UTC) if timezone.is_aware(value) else value
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}".rstrip("0")
        return text + ("+00:00" if value.tzinfo else "")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    return value


class Timeline:
    """A case's history, referral events and access events in one chronology, newest first, as
    a sequence a paginator can slice: `count()` and each slice cost one query on PostgreSQL.
    Elsewhere (the SQLite demo) the same rows are built in Python from the ORM.

    `hidden_notes` are the ids of the case's notes the reader may not read
    (`access.hidden_note_ids`): their history rows and the access events naming one of them are
    left out in the query itself, so that pages and counts say nothing of them."""

    def __init__(self, case: Case, *, include_access: bool = True, hidden_notes: Iterable = ()):
        self.case = case
        self.include_access = include_access
        self.hidden_notes = sorted(str(pk) for pk in hidden_notes)
        self.postgres = connection.vendor == "postgresql"
        self._count = None
        self._history = None

    def count(self) -> int:
        if self._count is None:
            self._count = self._count_sql() if self.postgres else self._count_generic()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if isinstance(key, int):
            if key < 0:
                raise IndexError("negative index")
            found = self[key : key + 1]
            if not found:
                raise IndexError(key)
            return found[0]
        start, stop, step = key.start or 0, key.stop, key.step
        if step not in (None, 1) or start < 0 or stop is None or stop < 0:
            raise ValueError("timeline slices are [start:stop] with 0 <= start")
        if stop <= start:
            return []
        rows = self._rows_sql(start, stop) if self.postgres else self._rows_generic(start, stop)
        return self._entries(rows)

    # PostgreSQL: ordering, cutting and the unchanged-row rule in SQL.

    def _params(self, *limit) -> list:
        """Each branch's parameters, in the order of the query (`_timeline_sql`)."""
        params = []
        for source, _model_name, _fk in TIMELINE_SOURCES:
            params.append(self.case.pk)
            if source == NOTE_SOURCE:
                params.append(self.hidden_notes)
            params += limit
        if self.include_access:
            params += [self.case.pk, self.hidden_notes, *limit]
        return params

    def _count_sql(self) -> int:
        _page, total = _timeline_sql(self.include_access)
        params = self._params()
        with connection.cursor() as cursor:
            cursor.execute(total, params)
            return cursor.fetchone()[0]

    def _rows_sql(self, start: int, stop: int) -> list[tuple]:
        page, _total = _timeline_sql(self.include_access)
        params = self._params(stop)
        with connection.cursor() as cursor:
            cursor.execute(page, [*params, stop - start, start])
            return cursor.fetchall()

    # Elsewhere: the same rows, in the same order, from the ORM.

    def _history_generic(self) -> list[tuple]:
        from django.apps import apps

        if self._history is not None:
            return self._history
        rows = []
        for src, (source, model_name, fk) in enumerate(TIMELINE_SOURCES):
            fields = _visible_fields(model_name)
            rank = REFERRAL if source == "referral" else HISTORY
            history = apps.get_model("casework", model_name).history.filter(**{fk: self.case.pk})
            previous = {}
            for row in history.order_by("history_date", "history_id").values(
                "history_id",
                "history_date",
                "history_type",
                "history_change_reason",
                "history_user__name",
                "history_user__username",
                *(attname for _column, _name, attname in fields),
            ):
                data = {column: _json_value(row[attname]) for column, _name, attname in fields}
                if source == NOTE_SOURCE and str(data["id"]) in self.hidden_notes:
                    continue
                prev = previous.get(data["id"])
                previous[data["id"]] = data
                if rank == HISTORY and row["history_type"] == "~" and data == prev:
                    continue
                rows.append(
                    (
                        rank,
                        row["history_date"],
                        row["history_id"],
                        src,
                        row["history_type"],
                        row["history_user__name"] or row["history_user__username"],
                        row["history_change_reason"],
                        data,
                        prev if rank == HISTORY else None,
                        None,
                        None,
                    )
                )
        self._history = rows
        return rows

    def _reads_generic(self) -> list[dict]:
        """The case's access events, newest first, without those naming a hidden note."""
        events = AccessEvent.objects.filter(case=self.case).order_by("-occurred_at", "-id")
        hidden = set(self.hidden_notes)
        return [
            event
            for event in events.values(
                "id",
                "occurred_at",
                "action",
                "object_type",
                "object_ids",
                "user__name",
                "user__username",
            )
            if not hidden.intersection(map(str, event["object_ids"] or ()))
        ]

    def _count_generic(self) -> int:
        total = len(self._history_generic())
        if self.include_access:
            total += len(self._reads_generic())
        return total

    def _rows_generic(self, start: int, stop: int) -> list[tuple]:
        rows = list(self._history_generic())
        if self.include_access:
            for event in self._reads_generic()[:stop]:
                rows.append(
                    (
                        ACCESS,
                        event["occurred_at"],
                        -event["id"],
                        0,
                        None,
                        event["user__name"] or event["user__username"],
                        None,
                        None,
                        None,
                        event["action"],
                        event["object_type"],
                    )
                )
        rows.sort(key=lambda r: (r[0], r[2], r[3]))
        rows.sort(key=lambda r: r[1], reverse=True)
        return [(r[0], r[1], *r[3:]) for r in rows[start:stop]]

    # Both: entries for the rows of one page.

    def _entries(self, rows) -> list["TimelineEntry"]:
        labels = _timeline_labels(get_language())
        sources, actions = labels["sources"], labels["actions"]
        entries = []
        for rank, at, src, history_type, user_name, reason, data, prev, action, object_type in rows:
            if rank == ACCESS:
                entries.append(
                    TimelineEntry(
                        at=at,
                        kind="access",
                        summary=f"{labels['reads'].get(action, action)} {object_type}",
                        user_name=user_name or "",
                        detail={"action": action, "object_type": object_type},
                    )
                )
                continue
            if isinstance(data, str):  # Django leaves jsonb undecoded on its connections
                data = json.loads(data)
            if rank == REFERRAL:
                kind, status = data["kind"], data["status"]
                entries.append(
                    TimelineEntry(
                        at=at,
                        kind="referral",
                        summary=f"{labels['referral']} {labels['kinds'].get(kind, kind)} → "
                        f"{labels['statuses'].get(status, status)}",
                        user_name=user_name or "",
                        detail={"referral": str(data["id"]), "status": status, "kind": kind},
                    )
                )
                continue
            if isinstance(prev, str):
                prev = json.loads(prev)
            source, model_name, _fk = TIMELINE_SOURCES[src]
            changes = []
            if prev is not None:
                changes = [
                    {
                        "field": name,
                        "old": _plain(prev.get(column)),
                        "new": _plain(data.get(column)),
                    }
                    for column, name, _attname in _visible_fields(model_name)
                    if prev.get(column) != data.get(column)
                ]
            done, reason = HISTORY_ACTIONS[history_type], reason or ""
            entries.append(
                TimelineEntry(
                    at=at,
                    kind="history",
                    summary=f"{sources.get(source, source)} {actions.get(done, done)}"
                    + (f": {reason}" if reason else ""),
                    user_name=user_name or "",
                    detail={"source": source, "action": done, "reason": reason, "changes": changes},
                )
            )
        return entries


def case_timeline(
    case: Case, *, include_access: bool = True, limit: int = 500, hidden_notes: Iterable = ()
):
    """The newest `limit` entries of the case's timeline (see `Timeline`)."""
    return Timeline(case, include_access=include_access, hidden_notes=hidden_notes)[:limit]


def _plain(value):
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)
