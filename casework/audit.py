"""Access events (every read of personal data) and their hash chain (DESIGN.md §6).

One request writes one row: a list view logs the ids it returned in a single event. Each month is
its own chain, so expiry after two years drops a whole month without breaking the next one.
"""

import datetime
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from partners.models import Membership, User

from .models import AccessChainHead, AccessEvent, Case, ReferralKind, ReferralStatus, Student

GENESIS = "0" * 64


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


def _content_digest(event: AccessEvent) -> str:
    """The hash of a row's content alone, in a canonical form."""
    return hashlib.sha256(json.dumps(_content(event), sort_keys=True).encode()).hexdigest()


def _digest(event: AccessEvent) -> str:
    """The hash of a row: the previous row's hash followed by its content's hash. Kept this
    simple so that PostgreSQL computes it (`sha256`) in the statement that appends the row,
    reading the previous hash from the head it locks (`_append_sql`)."""
    return hashlib.sha256((event.prev_hash + _content_digest(event)).encode()).hexdigest()


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
    left), move it to the new row's hash and count the row, and insert the row linked to the
    hash it replaced: one statement, so no transaction or savepoint of its own."""
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
    params = [_content_digest(event), event.partition, *values]
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

    def __str__(self):
        where = f"event {self.event_id}" if self.event_id else "chain head"
        return f"{self.partition} {where}: {self.problem}"


def verify_chain(partition: str | None = None) -> tuple[int, list[ChainProblem]]:
    """Walk every chain (or one month's) and report rows whose hash or link does not hold,
    and heads that do not match the last row (a deleted tail). Returns (rows checked, problems)."""
    heads = AccessChainHead.objects.all()
    if partition:
        heads = heads.filter(partition=partition)
    checked, problems = 0, []
    for head in heads.order_by("partition"):
        prev = GENESIS
        rows = AccessEvent.objects.filter(partition=head.partition).order_by("id")
        count = 0
        linked = False  # from a row hashed the current way on, the legacy hash is refused
        for event in rows.iterator(chunk_size=2000):
            count += 1
            if event.prev_hash != prev:
                problems.append(ChainProblem(head.partition, event.id, "link broken"))
            if _digest(event) == event.hash:
                linked = True
            elif linked or _legacy_digest(event) != event.hash:
                problems.append(ChainProblem(head.partition, event.id, "content altered"))
            prev = event.hash
        checked += count
        if prev != head.last_hash or count != head.count:
            problems.append(ChainProblem(head.partition, None, "rows missing at the end"))
    return checked, problems


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


def case_history(case: Case) -> list[HistoryEntry]:
    """Field-level changes of the case and its records, newest first (who, when, what, why)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return _case_history_pg(case, CASE_HISTORY_SOURCES)
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
    return entries


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
    """One record type's history rows of a case (params: case id, then the row limit unless
    counting). A "~" row whose visible fields equal the previous version's is dropped here, so
    counts and pages agree with what is shown; referral rows are events and are all kept."""
    from django.apps import apps

    table = apps.get_model("casework", model_name).history.model._meta.db_table
    rows = (
        "SELECT h.id AS object_id, h.history_id, h.history_date, h.history_type, "
        f"h.history_user_id, h.history_change_reason, {_visible_json('h', model_name)} AS data "
        f"FROM {table} h WHERE h.{fk} = %s"
    )
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


ACCESS_BRANCH = (
    f"(SELECT {ACCESS} AS rank, e.occurred_at AS at, -e.id AS tie, 0 AS src, NULL AS history_type, "
    "e.user_id, NULL AS reason, NULL::jsonb AS data, NULL::jsonb AS prev, e.action, "
    "e.object_type FROM casework_accessevent e WHERE e.case_id = %s "
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
        total += " + (SELECT count(*) FROM casework_accessevent WHERE case_id = %s)"
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
    Elsewhere (the SQLite demo) the same rows are built in Python from the ORM."""

    def __init__(self, case: Case, *, include_access: bool = True):
        self.case = case
        self.include_access = include_access
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

    @property
    def _branches(self) -> int:
        return len(TIMELINE_SOURCES) + (1 if self.include_access else 0)

    def _count_sql(self) -> int:
        _page, total = _timeline_sql(self.include_access)
        params = [self.case.pk] * self._branches
        with connection.cursor() as cursor:
            cursor.execute(total, params)
            return cursor.fetchone()[0]

    def _rows_sql(self, start: int, stop: int) -> list[tuple]:
        page, _total = _timeline_sql(self.include_access)
        params = [self.case.pk, stop] * self._branches
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

    def _count_generic(self) -> int:
        total = len(self._history_generic())
        if self.include_access:
            total += AccessEvent.objects.filter(case=self.case).count()
        return total

    def _rows_generic(self, start: int, stop: int) -> list[tuple]:
        rows = list(self._history_generic())
        if self.include_access:
            events = AccessEvent.objects.filter(case=self.case).order_by("-occurred_at", "-id")
            for event in events.values(
                "id", "occurred_at", "action", "object_type", "user__name", "user__username"
            )[:stop]:
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


def case_timeline(case: Case, *, include_access: bool = True, limit: int = 500):
    """The newest `limit` entries of the case's timeline (see `Timeline`)."""
    return Timeline(case, include_access=include_access)[:limit]


def _plain(value):
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)
