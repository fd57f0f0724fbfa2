"""A case's history: field-level changes of the case and its records, from their simple-history
tables in one query (DESIGN.md §6)."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from django.apps import apps
from django.db import connection

from casework.models import Case
from partners.models import User

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
CASE_SOURCE_MODELS = {source: model_name for source, model_name, _fk in CASE_HISTORY_SOURCES}
# Never shown in a diff: bookkeeping, or content shown elsewhere under its own access rules.
HIDDEN_FIELDS = {"updated_at", "created_at", "version", "body", "answers", "document"}
HISTORY_COLUMNS = {
    "history_id",
    "history_date",
    "history_type",
    "history_user_id",
    "history_change_reason",
}
HISTORY_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


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


class HistoryRow(NamedTuple):
    """One history row of `_history_union`, its record's fields as JSON."""

    source: str
    history_id: int
    history_date: object
    history_type: str
    history_user_id: object
    user_name: str | None
    history_change_reason: str | None
    data: dict | str


def history_model(model_name: str):
    """The simple-history model of a casework model."""
    return apps.get_model("casework", model_name).history.model


@lru_cache
def visible_fields(model_name: str) -> tuple[tuple[str, str, str], ...]:
    """(column, name, attname) of the history fields a diff shows, in model order."""
    return tuple(
        (f.column, f.name, f.attname)
        for f in history_model(model_name)._meta.concrete_fields
        if f.column not in HISTORY_COLUMNS and f.name not in HIDDEN_FIELDS
    )


def _history_union(case: Case) -> list[HistoryRow]:
    """Every history row of the case's records in one UNION ALL query, each row's fields as
    JSON: the history costs one query whatever the number of record types."""
    parts, params = [], []
    for source, model_name, fk in CASE_HISTORY_SOURCES:
        table = history_model(model_name)._meta.db_table
        parts.append(
            f"SELECT %s AS source, h.history_id, h.history_date, h.history_type, "
            f"h.history_user_id, COALESCE(NULLIF(u.name, ''), u.username) AS user_name, "
            f"h.history_change_reason, to_jsonb(h) AS data FROM {table} h "
            f"LEFT JOIN {User._meta.db_table} u ON u.id = h.history_user_id WHERE h.{fk} = %s"
        )
        params += [source, case.pk]
    sql = " UNION ALL ".join(parts) + " ORDER BY history_date, history_id"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [HistoryRow._make(row) for row in cursor.fetchall()]


def case_history(case: Case, *, hidden_notes: Iterable = ()) -> list[HistoryEntry]:
    """Field-level changes of the case and its records, newest first (who, when, what, why).
    `hidden_notes` are the ids of notes the reader may not read (`access.hidden_note_ids`):
    their entries are left out, so that nothing tells of them (DESIGN.md §3 Note)."""
    entries, previous = [], {}
    for row in _history_union(case):
        data = row.data
        if isinstance(data, str):  # Django leaves jsonb undecoded on its connections
            data = json.loads(data)
        key = (row.source, data["id"])
        before = previous.get(key)
        previous[key] = data
        changes = []
        if before is not None:
            changes = [
                Change(name, before.get(column), data.get(column))
                for column, name, _attname in visible_fields(CASE_SOURCE_MODELS[row.source])
                if before.get(column) != data.get(column)
            ]
            if not changes and row.history_type == "~":
                continue
        entries.append(
            HistoryEntry(
                at=row.history_date,
                source=row.source,
                object_id=str(data["id"]),
                action=HISTORY_ACTIONS[row.history_type],
                user_id=row.history_user_id,
                user_name=row.user_name or "",
                reason=row.history_change_reason or "",
                changes=changes,
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    hidden = {str(pk) for pk in hidden_notes}
    if not hidden:
        return entries
    return [e for e in entries if not (e.source == "note" and e.object_id in hidden)]
