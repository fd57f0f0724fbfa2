"""Access events (every read of personal data) and their hash chain (DESIGN.md §6).

One request writes one row: a list view logs the ids it returned in a single event. Each month is
its own chain, so expiry after two years drops a whole month without breaking the next one.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
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
    with transaction.atomic():
        head, _created = AccessChainHead.objects.select_for_update().get_or_create(
            partition=partition, defaults={"last_hash": GENESIS}
        )
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
            prev_hash=head.last_hash,
        )
        event.hash = _digest(event)
        event.save(force_insert=True)
        head.last_hash = event.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return event


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


def _history_rows(case: Case):
    from django.apps import apps

    for source, model_name, fk in CASE_HISTORY_SOURCES:
        model = apps.get_model("casework", model_name)
        yield source, model.history.filter(**{fk: case.pk}).select_related("history_user")


def case_history(case: Case) -> list[HistoryEntry]:
    """Field-level changes of the case and its records, newest first (who, when, what, why)."""
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
    from .models import Referral

    sources, actions = _source_labels(), _action_labels()

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
        for h in case_history(case)
    ]
    referral_rows = Referral.history.filter(case_id=case.pk).select_related("history_user")
    for row in referral_rows.order_by("history_date"):
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
