"""Bulk writes at COPY speed with their history rows (PostgreSQL): what simple-history's
`bulk_create_with_history` and `bulk_update_with_history` write, without building a model
instance (or a CASE expression per row and field) for each row. The roster import writes
through these; `seed_scale` loads its synthetic tiers with the same `Copier`.
"""

import io
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    kind = type(value)
    if kind is str:
        text = value
    elif kind is bool:
        return "t" if value else "f"
    elif kind is int or kind is uuid.UUID:
        return str(value)
    elif kind is datetime or kind is date:
        return value.isoformat()
    elif kind is list or kind is dict:
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.translate(_ESCAPES)
    return text


class Copier:
    """COPY rows (dicts keyed by attname) into a model's table; unspecified fields take their
    static default. Counts rows per table for the report."""

    CHUNK = 50_000

    def __init__(self, now: datetime):
        self.now = now
        self.counts: dict[str, int] = {}
        self.seconds = 0.0

    def _columns(self, model) -> list[tuple[str, str, object]]:
        out = []
        for f in model._meta.concrete_fields:
            if isinstance(f, models.AutoField | models.BigAutoField):
                continue
            default = None
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                default = self.now
            elif f.has_default() and not callable(f.default):
                default = f.default
            elif (f.has_default() and f.default in (list, dict)) or (
                f.has_default() and isinstance(f, models.DateField | models.DateTimeField)
            ):
                default = f.default()
            elif not f.null and isinstance(
                f, models.CharField | models.TextField | models.FileField
            ):
                default = ""
            elif not f.null and isinstance(f, models.DateTimeField):
                default = self.now  # historical copies of auto_now fields are plain fields
            elif not f.null and isinstance(f, models.DateField):
                default = self.now.date()
            out.append((f.attname, f.column, default))
        return out

    def copy(self, model, rows: Iterable[dict], *, history: Callable[[dict], list] | None = None):
        """COPY `rows`; with `history`, also COPY what it returns for each row into the
        model's historical table."""
        columns = self._columns(model)
        hist_model = model.history.model if history else None
        hist_columns = self._columns(hist_model) if hist_model else []
        buf, hbuf, n, hn = io.StringIO(), io.StringIO(), 0, 0
        for row in rows:
            buf.write("\t".join(copy_text(row.get(a, d)) for a, _c, d in columns))
            buf.write("\n")
            n += 1
            if hist_model is not None:
                for hrow in history(row):
                    merged = {**row, **hrow}
                    hbuf.write("\t".join(copy_text(merged.get(a, d)) for a, _c, d in hist_columns))
                    hbuf.write("\n")
                    hn += 1
            if n % self.CHUNK == 0:
                self._flush(model, columns, buf)
                buf = io.StringIO()
                if hist_model is not None:
                    self._flush(hist_model, hist_columns, hbuf)
                    hbuf = io.StringIO()
        self._flush(model, columns, buf)
        if hist_model is not None:
            self._flush(hist_model, hist_columns, hbuf)
        self.counts[model._meta.db_table] = self.counts.get(model._meta.db_table, 0) + n
        if hist_model is not None:
            table = hist_model._meta.db_table
            self.counts[table] = self.counts.get(table, 0) + hn
        return n

    def copy_tuples(
        self, model, attnames: list[str], rows: Iterable[tuple], *, history: dict | None = None
    ) -> int:
        """COPY `rows`, tuples of the values of `attnames` in that order; the other fields take
        their static default. With `history` (see `hist`), also COPY one history row per row:
        the same text for every tracked field, so the history holds exactly what the table got.
        Cheaper than `copy` when the caller has the values at hand: the defaults and the history
        columns are formatted once, not once per row. An auto-increment primary key may be given
        (the caller then sets its sequence) or, when no history is written, left to the
        database (a history row needs the key)."""
        given = set(attnames)
        pk = model._meta.pk
        auto = isinstance(pk, models.AutoField | models.BigAutoField)
        if pk.attname not in given and (history is not None or not auto):
            raise ValueError(f"{model.__name__}: COPY needs the primary key ({attnames})")
        columns = self._columns(model)
        if auto and pk.attname in given:
            columns = [(pk.attname, pk.column, None), *columns]
        by_attname = {a: (a, c, d) for a, c, d in columns}
        rest = [col for col in columns if col[0] not in given]
        ordered = [by_attname[a] for a in attnames] + rest
        tail = "".join("\t" + copy_text(d) for _a, _c, d in rest)
        hist_model = model.history.model if history is not None and _history_on() else None
        if hist_model is not None:
            tracked = {f.attname for f in _tracked_fields(hist_model)}
            keep = [i for i, (a, _c, _d) in enumerate(ordered) if a in tracked]
            own = {f.attname: f.column for f in hist_model._meta.concrete_fields}
            hist_columns = [(a, own[a], None) for a, _c, _d in (ordered[i] for i in keep)]
            hist_columns += [(a, own[a], None) for a in history]
            hist_tail = "".join("\t" + copy_text(v) for v in history.values()) + "\n"
            every = len(keep) == len(ordered)  # no excluded field: reuse the whole line
            rest_text = [copy_text(d) for _a, _c, d in rest]
        text, join = copy_text, "\t".join
        buf, hbuf, n = io.StringIO(), io.StringIO(), 0
        for row in rows:
            parts = [text(v) for v in row]
            line = join(parts) + tail
            buf.write(line + "\n")
            if hist_model is not None:
                if not every:
                    parts += rest_text
                    line = join([parts[i] for i in keep])
                hbuf.write(line + hist_tail)
            n += 1
            if n % self.CHUNK == 0:
                self._flush(model, ordered, buf)
                buf = io.StringIO()
                if hist_model is not None:
                    self._flush(hist_model, hist_columns, hbuf)
                    hbuf = io.StringIO()
        self._flush(model, ordered, buf)
        table = model._meta.db_table
        self.counts[table] = self.counts.get(table, 0) + n
        if hist_model is not None:
            self._flush(hist_model, hist_columns, hbuf)
            table = hist_model._meta.db_table
            self.counts[table] = self.counts.get(table, 0) + n
        return n

    def _flush(self, model, columns, buf: io.StringIO) -> None:
        if not buf.tell():
            return
        buf.seek(0)
        started = time.perf_counter()
        cols = ", ".join(f'"{c}"' for _a, c, _d in columns)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f'COPY "{model._meta.db_table}" ({cols}) FROM STDIN', buf, size=1 << 20
            )
        self.seconds += time.perf_counter() - started


def hist(at: datetime, kind: str = "+", reason: str = "", user=None) -> dict:
    return {
        "history_date": at,
        "history_type": kind,
        "history_change_reason": reason or None,
        "history_user_id": user,
    }


def iter_chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def copy_with_history(model, objects: list, *, by=None, reason: str = "") -> int:
    """Insert unsaved model instances and their '+' history rows (PostgreSQL): what
    `bulk_create_with_history` writes, at COPY speed. auto_now fields get the current time."""
    now = datetime.now(UTC)
    names = [f.attname for f in model._meta.concrete_fields]
    auto = {
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    for obj in objects:
        for name in auto:
            setattr(obj, name, now)
    rows = [tuple(getattr(obj, name) for name in names) for obj in objects]
    count = copy_rows_with_history(model, names, rows, by=by, reason=reason, now=now)
    for obj in objects:
        obj._state.adding = False
    return count


def copy_rows_with_history(
    model, attnames: list[str], rows: list[tuple], *, by=None, reason: str = "", now=None
) -> int:
    """COPY new rows (tuples of the values of `attnames`, the primary key among them; other
    fields take their default, auto_now fields `now`) with their '+' history rows, as
    `bulk_create_with_history` would write them: history_date `now`, the user, the reason.
    PostgreSQL only."""
    now = now or datetime.now(UTC)
    history = hist(now, "+", reason, getattr(by, "pk", by))
    return Copier(now).copy_tuples(model, attnames, rows, history=history)


def update_rows_with_history(
    model, attnames: list[str], rows: list[tuple], *, by=None, reason: str = "", now=None
) -> int:
    """Update existing rows in one statement per chunk and write their '~' history rows from
    the updated table (`insert_history`), in the caller's transaction: what
    `bulk_update_with_history` writes, without building the CASE expression Django's
    `bulk_update` needs per row and field (seconds for a 10,000-row roster). `rows` are tuples
    (pk, *values of `attnames`); a None keeps the stored value; auto_now fields get `now`.
    PostgreSQL only."""
    if not rows:
        return 0
    now = now or datetime.now(UTC)
    meta = model._meta
    pk = meta.pk
    fields = [meta.get_field(name) for name in attnames]
    quote = connection.ops.quote_name
    sets = [
        f"{quote(f.column)} = COALESCE(v.{quote(f.column)}, t.{quote(f.column)})" for f in fields
    ]
    sets += [
        f"{quote(f.column)} = %s"
        for f in meta.concrete_fields
        if getattr(f, "auto_now", False) and f.attname not in attnames
    ]
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in [pk, *fields])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {', '.join(sets)} "
        f"FROM unnest({arrays}) AS v({', '.join(quote(f.column) for f in [pk, *fields])}) "
        f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    auto = [now] * (len(sets) - len(fields))
    updated = 0
    with connection.cursor() as cursor:
        for chunk in iter_chunks(rows, Copier.CHUNK):
            columns = [list(column) for column in zip(*chunk, strict=True)]
            cursor.execute(sql, [*auto, *columns])
            updated += cursor.rowcount
    ids = [row[0] for row in rows]
    insert_history(model, ids, kind="~", by=by, reason=reason, at=now)
    return updated


# simple-history's own fields; a historical model with any other (a custom history field,
# `history_relation`) needs values these helpers cannot know, so they refuse it.
_HISTORY_OWN = {
    "history_id",
    "history_date",
    "history_type",
    "history_change_reason",
    "history_user",
}


def _history_on() -> bool:
    return getattr(settings, "SIMPLE_HISTORY_ENABLED", True)


def _tracked_fields(hist_model) -> list:
    """The fields of the original model a history row copies (all but the excluded ones)."""
    tracked = hist_model.tracked_fields
    own = {f.name for f in hist_model._meta.concrete_fields} - {f.name for f in tracked}
    if own != _HISTORY_OWN:
        raise ValueError(f"{hist_model.__name__} has history fields these helpers cannot fill")
    return tracked


def insert_history(
    model, ids: list, *, kind: str, by=None, reason: str = "", at: datetime | None = None
) -> int:
    """Write one history row of `kind` ('+' after a create, '~' after an update) for each row
    `ids` of `model` as it now stands, with one `INSERT … SELECT` per chunk, so the data never
    leaves the database. The rows are what simple-history's bulk helpers write: every tracked
    field (excluded fields are not tracked), `history_date`, the type, the user and the reason.
    PostgreSQL only; primary keys must be UUIDs or integers (they go in as one array literal)."""
    if not _history_on() or not ids:
        return 0
    hist_model = model.history.model
    pk = model._meta.pk
    if not isinstance(pk, models.UUIDField | models.AutoField | models.BigAutoField):
        raise ValueError(f"{model.__name__}: unsupported primary key for insert_history")
    tracked = _tracked_fields(hist_model)
    targets = [hist_model._meta.get_field(f.name).column for f in tracked] + [
        hist_model._meta.get_field(name).column
        for name in ("history_date", "history_type", "history_change_reason", "history_user")
    ]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(hist_model._meta.db_table)} ({', '.join(map(quote, targets))}) "
        f"SELECT {', '.join(quote(f.column) for f in tracked)}, %s, %s, %s, %s "
        f"FROM {quote(model._meta.db_table)} "
        f"WHERE {quote(pk.column)} = ANY(%s::{pk.db_type(connection)}[])"
    )
    user_id = getattr(by, "pk", by)
    params = [at or timezone.now(), kind, reason or None, user_id]
    written = 0
    with connection.cursor() as cursor:
        for chunk in iter_chunks(ids, Copier.CHUNK):
            cursor.execute(sql, [*params, "{" + ",".join(map(str, chunk)) + "}"])
            written += cursor.rowcount
    return written
