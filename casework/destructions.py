"""The register of destruction as the privacy officer reads it (DESIGN.md §9): the lines of their
organisations, newest first, filtered by date and rule, and the forecast of the next runs."""

from datetime import datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from casework import access
from casework.models import DestructionRecord
from partners.models import User

REGISTER_MAX = 500


def register(user: User, filters: dict) -> QuerySet[DestructionRecord]:
    rows = access.visible_destructions(user)
    if filters.get("since"):
        start = timezone.make_aware(datetime.combine(filters["since"], time.min))
        rows = rows.filter(destroyed_at__gte=start)
    if filters.get("rule"):
        rows = rows.filter(rule=filters["rule"])
    return rows.select_related("case", "destroyed_by").order_by("-destroyed_at")


def as_json(record: DestructionRecord) -> dict:
    return {
        "id": str(record.pk),
        "object_type": record.object_type,
        "object_id": str(record.object_id),
        "object_label": record.object_label,
        "case": str(record.case_id) if record.case_id else None,
        "parts": record.parts,
        "action": record.action,
        "rule": record.rule,
        "rule_detail": record.rule_detail,
        "due_on": record.due_on.isoformat() if record.due_on else None,
        "destroyed_at": timezone.localtime(record.destroyed_at).isoformat(),
        "destroyed_by": (
            {"id": str(record.destroyed_by_id), "name": str(record.destroyed_by)}
            if record.destroyed_by_id
            else None
        ),
    }
