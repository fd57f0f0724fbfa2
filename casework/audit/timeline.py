"""A case's timeline: its history, referral events and access events in one chronology, paged
in SQL (DESIGN.md §6)."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from django.db import connection
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from casework.models import AccessEvent, Case, ReferralKind, ReferralStatus
from partners.models import User

from . import wording
from .history import CASE_HISTORY_SOURCES, HISTORY_ACTIONS, history_model, visible_fields


@dataclass
class TimelineEntry:
    """One entry: `summary` and `detail` are the API's (codes, field names); `sentence`, `lines`
    ({label, old, new}) and `reason` are the page's words, set by `describe`."""

    at: object
    kind: str  # history / referral / access
    summary: str
    user_name: str
    detail: dict
    record: dict | None = field(default=None, compare=False, repr=False)
    sentence: str = field(default="", compare=False)
    lines: list = field(default_factory=list, compare=False)
    reason: str = field(default="", compare=False)


class TimelineRow(NamedTuple):
    """One row of a timeline page (`_timeline_sql`): a history row (data and, for record
    history, the previous version's data) or an access event (action and object type)."""

    rank: int
    at: object
    src: int
    history_type: str | None
    user_name: str | None
    reason: str | None
    data: dict | str | None
    prev: dict | str | None
    action: str | None
    object_type: str | None


# Order of the kinds among entries of the same instant: history, then referrals, then reads.
HISTORY, REFERRAL, ACCESS = 0, 1, 2
TIMELINE_SOURCES = (*CASE_HISTORY_SOURCES, ("referral", "Referral", "case_id"))


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


def _visible_json(alias: str, model_name: str) -> str:
    """A history row's visible fields as one jsonb value. Built field by field, not as
    `to_jsonb(row) - hidden`, so that only what a diff shows can make a row count as changed;
    in chunks, as a function takes at most 100 arguments."""
    pairs = [
        f"'{column}', {alias}.{column}" for column, _name, _attname in visible_fields(model_name)
    ]
    chunks = [pairs[i : i + 40] for i in range(0, len(pairs), 40)]
    return " || ".join(f"jsonb_build_object({', '.join(chunk)})" for chunk in chunks)


def _history_branch(source: str, model_name: str, fk: str, *, count: bool) -> str:
    """One record type's history rows of a case (params: case id, for notes the ids of those the
    reader may not read, then the row limit unless counting). A "~" row whose visible fields
    equal the previous version's is dropped here, so counts and pages agree with what is shown;
    referral rows are events and are all kept."""
    table = history_model(model_name)._meta.db_table
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
    """The page query and the count query of a case's timeline. Each branch is ordered and cut
    to offset + limit rows before the merge, so a page costs what it shows (and what precedes
    it), not the case's whole past. The page's columns are those of `TimelineRow`."""
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


def _decoded(value):
    """A jsonb value: Django leaves jsonb undecoded on its connections."""
    return json.loads(value) if isinstance(value, str) else value


def _plain(value):
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


def _entry(row: TimelineRow, labels: dict) -> TimelineEntry:
    """The entry a row shows, in the labels of the reader's language."""
    user_name = row.user_name or ""
    if row.rank == ACCESS:
        return TimelineEntry(
            at=row.at,
            kind="access",
            summary=f"{labels['reads'].get(row.action, row.action)} {row.object_type}",
            user_name=user_name,
            detail={"action": row.action, "object_type": row.object_type},
        )
    data = _decoded(row.data)
    if row.rank == REFERRAL:
        kind, status = data["kind"], data["status"]
        return TimelineEntry(
            at=row.at,
            kind="referral",
            summary=f"{labels['referral']} {labels['kinds'].get(kind, kind)} → "
            f"{labels['statuses'].get(status, status)}",
            user_name=user_name,
            detail={"referral": str(data["id"]), "status": status, "kind": kind},
            record=data,
        )
    prev = _decoded(row.prev)
    source, model_name, _fk = TIMELINE_SOURCES[row.src]
    changes = []
    if prev is not None:
        changes = [
            {"field": name, "old": _plain(prev.get(column)), "new": _plain(data.get(column))}
            for column, name, _attname in visible_fields(model_name)
            if prev.get(column) != data.get(column)
        ]
    done, reason = HISTORY_ACTIONS[row.history_type], row.reason or ""
    sources, actions = labels["sources"], labels["actions"]
    return TimelineEntry(
        at=row.at,
        kind="history",
        summary=f"{sources.get(source, source)} {actions.get(done, done)}"
        + (f": {reason}" if reason else ""),
        user_name=user_name,
        detail={"source": source, "action": done, "reason": reason, "changes": changes},
        record=data,
    )


class Timeline:
    """A case's history, referral events and access events in one chronology, newest first, as
    a sequence a paginator can slice: `count()` and each slice cost one query.

    `hidden_notes` are the ids of the case's notes the reader may not read
    (`access.hidden_note_ids`): their history rows and the access events naming one of them are
    left out in the query itself, so that pages and counts say nothing of them."""

    def __init__(self, case: Case, *, include_access: bool = True, hidden_notes: Iterable = ()):
        self.case = case
        self.include_access = include_access
        self.hidden_notes = sorted(str(pk) for pk in hidden_notes)
        self._count = None

    def count(self) -> int:
        if self._count is None:
            _page, total = _timeline_sql(self.include_access)
            with connection.cursor() as cursor:
                cursor.execute(total, self._params())
                self._count = cursor.fetchone()[0]
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
        labels = _timeline_labels(get_language())
        return [_entry(row, labels) for row in self._rows(start, stop)]

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

    def _rows(self, start: int, stop: int) -> list[TimelineRow]:
        page, _total = _timeline_sql(self.include_access)
        with connection.cursor() as cursor:
            cursor.execute(page, [*self._params(stop), stop - start, start])
            return [TimelineRow._make(row) for row in cursor.fetchall()]


def describe(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """Sets each entry's words in the reader's language (`wording`): a sentence, its changes
    as labelled lines, its reason. The names the entries show cost one query for them all."""
    models = {source: model_name for source, model_name, _fk in TIMELINE_SOURCES}
    wanted = set()
    for entry in entries:
        if entry.kind == "history":
            model_name = models[entry.detail["source"]]
            wanted |= wording.wanted_names(model_name, entry.record, entry.detail["changes"])
        elif entry.kind == "referral":
            wanted |= wording.wanted_names("Referral", entry.record, ())
    names = wording.names_of(wanted)
    for entry in entries:
        if entry.kind == "history":
            source, changes = entry.detail["source"], entry.detail["changes"]
            model_name, record = models[source], entry.record or {}
            entry.sentence = wording.history_sentence(
                source, model_name, entry.detail["action"], record, changes, names
            )
            entry.lines = wording.change_lines(model_name, changes, names, record)
            entry.reason = wording.reason_text(entry.detail["reason"])
        elif entry.kind == "referral":
            entry.sentence, entry.reason = wording.referral_sentence(entry.record or {}, names)
        else:
            entry.sentence = entry.summary
    return entries


def case_timeline(
    case: Case, *, include_access: bool = True, limit: int = 500, hidden_notes: Iterable = ()
):
    """The newest `limit` entries of the case's timeline (see `Timeline`), in the reader's
    words (`describe`)."""
    entries = Timeline(case, include_access=include_access, hidden_notes=hidden_notes)[:limit]
    return describe(entries)
