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


def _membership_for(user: User, case: Case | None, student: Student | None) -> Membership | None:
    """The membership the user acted in: one at the case's (or student's) organisation if any."""
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
        membership = _membership_for(user, case, student)
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
