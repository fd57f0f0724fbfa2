"""A list page's filters and column sort, kept for the next visit.

A coordinator filters the case list, opens a case and comes back by the menu: the list should
still show what they chose. `Listing` reads a page's filter and sort parameters; when the
request names none of them it takes those the user last used on that page, which the session
keeps under the page's key (`remember()`, called once the page has read them without error, so
that a value the page refused is not brought back on every visit). `?reset=1` forgets them. The
page number and the access log's cursor are never kept: coming back starts at the top.

A sort is `?sort=<name>` or `?sort=-<name>` (descending), and only a name the page lists in
`sorts` is used; anything else is the page's default order, never an error and never a column
the page did not offer. Sorting orders the rows the page's selector returned (visibility is the
access package's); the primary key breaks ties so that pages do not overlap.

The session is written only when what it keeps changes: a list read again with the same
parameters costs no query.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.expressions import BaseExpression
from django.http import QueryDict

SORT = "sort"
RESET = "reset"
SESSION_PREFIX = "listing:"
ASCENDING, DESCENDING, NONE = "ascending", "descending", "none"


def in_order(field: str, codes: Iterable[str]) -> Case:
    """An expression ranking `field` by the position of its value in `codes` (a lifecycle or a
    severity, not the alphabet); values not in `codes` come last."""
    codes = list(codes)
    return Case(
        *[When(**{field: code}, then=Value(rank)) for rank, code in enumerate(codes)],
        default=Value(len(codes)),
        output_field=IntegerField(),
    )


@dataclass(frozen=True)
class Column:
    """A sortable column header: its state (`aria-sort`) and the query string of the link that
    sorts by it (the other way when it is the current sort)."""

    name: str
    order: str  # ascending, descending or none
    query: str
    id: str


class Listing:
    def __init__(
        self,
        request,
        key: str,
        *,
        filters: Iterable[str] = (),
        sorts: Mapping[str, str | BaseExpression | tuple] | None = None,
        default: str = "",
    ):
        """`key` names the page in the session; `filters` are the query parameters the page
        filters by; `sorts` maps each sort name to the field name(s) or expressions it orders by
        (an expression puts empty values last);
        `default` is the sort (`name` or `-name`) used when none is asked for."""
        self.key = key
        self.filters = tuple(filters)
        self.sorts = dict(sorts or {})
        if default and default.removeprefix("-") not in self.sorts:
            raise ValueError(f"default sort {default!r} is not one of {sorted(self.sorts)}")
        self.default = default
        self._session = getattr(request, "session", None)
        self._session_key = SESSION_PREFIX + key
        query = request.GET
        self.reset = RESET in query
        kept = {} if self.reset else self._kept()
        if self.reset:
            chosen, sort = {}, ""
        else:
            if any(name in query for name in self.filters):
                chosen = {name: query.getlist(name) for name in self.filters if name in query}
            else:
                chosen = dict(kept.get("filters") or {})
            sort = query.get(SORT) if SORT in query else kept.get(SORT, "")
        self.restored = (
            not self.reset
            and bool(kept)
            and not any(name in query for name in (*self.filters, SORT))
        )
        self.sort = sort if self._allowed(sort) else self.default
        self._chosen = {
            name: [str(v) for v in values]
            for name, values in chosen.items()
            if name in self.filters and isinstance(values, list)
        }
        self.params = QueryDict(mutable=True)
        for name, values in self._chosen.items():
            self.params.setlist(name, values)
        if self.sort != self.default:
            self.params[SORT] = self.sort

    # --- Reading -------------------------------------------------------------------------------

    def _kept(self) -> dict:
        if self._session is None:
            return {}
        kept = self._session.get(self._session_key)
        return kept if isinstance(kept, dict) else {}

    def _allowed(self, sort) -> bool:
        return isinstance(sort, str) and sort.removeprefix("-") in self.sorts

    def get(self, name: str, default=None):
        """The value of filter `name` as the page uses it (from the request or kept)."""
        return self.params.get(name, default)

    @property
    def filtered(self) -> bool:
        """Whether any filter has a value (an empty list then says that nothing matched)."""
        return any(any(v.strip() for v in values) for values in self._chosen.values())

    @property
    def active(self) -> bool:
        """Whether any filter has a value or the order is not the default: the page then
        offers to clear them."""
        return self.filtered or self.sort != self.default

    @property
    def query(self) -> str:
        """The query string of the current filters and sort, for page links."""
        return self.params.urlencode()

    # --- Sorting -------------------------------------------------------------------------------

    def order(self, rows: QuerySet) -> QuerySet:
        """`rows` in the chosen order, the primary key last to break ties."""
        if not self.sort:
            return rows
        descending = self.sort.startswith("-")
        fields = self.sorts[self.sort.removeprefix("-")]
        if not isinstance(fields, tuple | list):
            fields = (fields,)
        terms = []
        for field in fields:
            if isinstance(field, str):
                terms.append(field if not descending else _flip(field))
            else:
                # An expression (F("respond_by"), a rank) puts rows without a value last
                # both ways; a field name stays a plain ORDER BY that its index serves.
                terms.append(
                    field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
                )
        terms.append("-pk" if descending else "pk")
        return rows.order_by(*terms)

    @property
    def columns(self) -> dict[str, Column]:
        """Each sort's column header, by sort name (`listing.columns.number` in a template)."""
        current, descending = self.sort.removeprefix("-"), self.sort.startswith("-")
        columns = {}
        for name in self.sorts:
            if name == current:
                order = DESCENDING if descending else ASCENDING
                wanted = name if descending else f"-{name}"
            else:
                order, wanted = NONE, name
            params = self.params.copy()
            params[SORT] = wanted
            columns[name] = Column(
                name=name, order=order, query=params.urlencode(), id=f"sort-{self.key}-{name}"
            )
        return columns

    # --- Keeping -------------------------------------------------------------------------------

    def remember(self) -> None:
        """Keep the filters and sort for the next visit (or forget them after `?reset=1`),
        writing the session only when they changed."""
        if self._session is None:
            return
        if self.reset or not self.active:
            if self._session_key in self._session:
                del self._session[self._session_key]
            return
        kept = {"filters": self._chosen, SORT: self.sort if self.sort != self.default else ""}
        if self._session.get(self._session_key) != kept:
            self._session[self._session_key] = kept


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"
