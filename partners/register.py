"""The access-rights register (접근권한 관리대장, PIPA 안전성 확보조치 기준 제5조): every grant, change
and revocation of a membership or of its data-handling approval, written on each save and delete
of a membership (partners/signals.py) and kept at least three years (AccessRightRecord).

A save compares the membership with the values it was read with (`Membership.from_db`) and writes
one row per kind of change: the approval, the role, the end, the rest. The acting person is the
one simple-history names (`_history_user`, or the signed-in user of the request)."""

from simple_history.models import HistoricalRecords

from .models import REGISTER_FIELDS, AccessRightRecord, Membership

Kind = AccessRightRecord.Kind
APPROVAL = ("approved_by", "approved_on", "approval_expires_on")
ROLE = ("role",)
END = ("active", "ended_on")
OTHER = tuple(f for f in REGISTER_FIELDS if f not in APPROVAL + ROLE + END)


def actor(instance):
    user = getattr(instance, "_history_user", None)
    if user is not None:
        return user
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def _ended(values: dict) -> bool:
    return values.get("active") is False or values.get("ended_on") is not None


def _kinds(before: dict, after: dict) -> list[tuple[str, dict]]:
    diff = {
        name: [before[name], after[name]]
        for name in after
        if name in before and before[name] != after[name]
    }

    def part(names):
        return {n: diff[n] for n in names if n in diff}

    rows = []
    approval = part(APPROVAL)
    if approval:
        if before.get("approved_on") is None and after.get("approved_on") is not None:
            rows.append((Kind.APPROVAL_GIVEN, approval))
        elif after.get("approved_on") is None:
            rows.append((Kind.APPROVAL_WITHDRAWN, approval))
        else:
            rows.append((Kind.APPROVAL_RENEWED, approval))
    if part(ROLE):
        rows.append((Kind.ROLE_CHANGED, part(ROLE)))
    if part(END):
        rows.append((Kind.ENDED if _ended(after) else Kind.REOPENED, part(END)))
    if part(OTHER):
        rows.append((Kind.CHANGED, part(OTHER)))
    return rows


def _rows(instance: Membership, kinds) -> list[AccessRightRecord]:
    by = actor(instance)
    reason = (getattr(instance, "_change_reason", "") or "")[:200]
    return [
        AccessRightRecord(
            kind=kind,
            membership_id=instance.pk,
            user_id=instance.user_id,
            organization_id=instance.organization_id,
            role=instance.role,
            by=by,
            changes=changes,
            reason=reason,
        )
        for kind, changes in kinds
    ]


def remember_before(instance: Membership) -> None:
    """pre_save: a membership not read from the database (built with an existing pk) is
    compared with its row."""
    if hasattr(instance, "_register_loaded") or instance._state.adding:
        return
    stored = Membership.objects.filter(pk=instance.pk).first()
    if stored is not None:
        instance._register_loaded = stored._register_loaded


def record_save(instance: Membership, created: bool) -> None:
    after = instance.register_values()
    loaded = None if created else getattr(instance, "_register_loaded", None)
    before = None if loaded is None else instance.register_values(loaded)
    if before is None:
        kinds = [(Kind.GRANTED, {name: [None, value] for name, value in after.items()})]
        if after.get("approved_on") is not None:
            kinds.append((Kind.APPROVAL_GIVEN, {n: [None, after[n]] for n in APPROVAL}))
    else:
        kinds = _kinds(before, after)
    if kinds:
        AccessRightRecord.objects.bulk_create(_rows(instance, kinds))
    instance.remember_register_values()


def record_delete(instance: Membership) -> None:
    values = instance.register_values()
    changes = {name: [value, None] for name, value in values.items()}
    AccessRightRecord.objects.bulk_create(_rows(instance, [(Kind.REVOKED, changes)]))
