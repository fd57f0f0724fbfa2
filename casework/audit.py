"""Access events (every read of personal data) and their hash chain (DESIGN.md §6).

One request writes one row: a list view logs the ids it returned in a single event. Each month is
its own chain, so expiry after two years drops a whole month without breaking the next one.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.models import Membership, User

from .models import AccessChainHead, AccessEvent, Case, Student

GENESIS = "0" * 64


def _digest(event: AccessEvent) -> str:
    """The hash of a row: its content and the previous row's hash, in a canonical form."""
    content = {
        "prev": event.prev_hash,
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
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _append_pg(event)
        else:
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


def _append_pg(event: AccessEvent) -> None:
    """Append in two statements: lock the month's head while reading its hash (counting the
    new row), then insert the row and move the head in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casework_accesschainhead SET count = count + 1 WHERE partition = %s "
            "RETURNING last_hash",
            [event.partition],
        )
        found = cursor.fetchone()
        if found is None:  # the month's first event
            AccessChainHead.objects.get_or_create(
                partition=event.partition, defaults={"last_hash": GENESIS}
            )
            cursor.execute(
                "UPDATE casework_accesschainhead SET count = count + 1 WHERE partition = %s "
                "RETURNING last_hash",
                [event.partition],
            )
            found = cursor.fetchone()
        event.prev_hash = found[0]
        event.hash = _digest(event)
        fields = [f for f in AccessEvent._meta.concrete_fields if f.name != "id"]
        columns = ", ".join(f.column for f in fields)
        values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
        marks = ", ".join(["%s"] * len(fields))
        cursor.execute(
            f"WITH added AS (INSERT INTO casework_accessevent ({columns}) VALUES ({marks}) "
            "RETURNING id) UPDATE casework_accesschainhead SET last_hash = %s "
            "WHERE partition = %s RETURNING (SELECT id FROM added)",
            [*values, event.hash, event.partition],
        )
        event.id = cursor.fetchone()[0]
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
        for event in rows.iterator(chunk_size=2000):
            count += 1
            if event.prev_hash != prev:
                problems.append(ChainProblem(head.partition, event.id, "link broken"))
            if _digest(event) != event.hash:
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


def _source_labels() -> dict:
    return {
        "case": _("사례"),
        "team": _("팀"),
        "participant": _("참여 기관"),
        "plan": _("지원 계획"),
        "consent": _("동의"),
        "decision": _("결정"),
        "assessment": _("평가"),
        "note": _("기록"),
    }


def _action_labels() -> dict:
    return {"created": _("추가"), "changed": _("변경"), "deleted": _("삭제")}


def case_timeline(case: Case, *, include_access: bool = True, limit: int = 500):
    """History, referral events and access events of a case in one chronology, newest first."""
    from django.db import connection

    from .models import Referral, ReferralKind, ReferralStatus

    sources, actions = _source_labels(), _action_labels()
    pg = connection.vendor == "postgresql"
    history = (
        _case_history_pg(case, CASE_HISTORY_SOURCES + REFERRAL_HISTORY_SOURCE)
        if pg
        else case_history(case)
    )

    entries = [
        TimelineEntry(
            at=h.at,
            kind="history",
            summary=f"{sources.get(h.source, h.source)} {actions.get(h.action, h.action)}"
            + (f": {h.reason}" if h.reason else ""),
            user_name=h.user_name,
            detail={
                "source": h.source,
                "action": h.action,
                "reason": h.reason,
                "changes": [
                    {"field": c.field, "old": _plain(c.old), "new": _plain(c.new)}
                    for c in h.changes
                ],
            },
        )
        for h in history
        if h.source != "referral"
    ]
    for h in history:
        if h.source == "referral":
            kind, status = h.snapshot["kind"], h.snapshot["status"]
            entries.append(
                TimelineEntry(
                    at=h.at,
                    kind="referral",
                    summary=f"{_('의뢰')} {ReferralKind(kind).label} → {ReferralStatus(status).label}",
                    user_name=h.user_name,
                    detail={"referral": h.object_id, "status": status, "kind": kind},
                )
            )
    referral_rows = Referral.history.none() if pg else Referral.history.filter(case_id=case.pk)
    for row in referral_rows.select_related("history_user").order_by("history_date"):
        entries.append(
            TimelineEntry(
                at=row.history_date,
                kind="referral",
                summary=f"{_('의뢰')} {row.get_kind_display()} → {row.get_status_display()}",
                user_name=str(row.history_user) if row.history_user_id else "",
                detail={"referral": str(row.id), "status": row.status, "kind": row.kind},
            )
        )
    if include_access:
        events = AccessEvent.objects.filter(case=case).select_related("user")[:limit]
        for event in events:
            entries.append(
                TimelineEntry(
                    at=event.occurred_at,
                    kind="access",
                    summary=f"{event.get_action_display()} {event.object_type}",
                    user_name=str(event.user),
                    detail={"action": event.action, "object_type": event.object_type},
                )
            )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _plain(value):
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)
