"""Small-cell suppression of a table of counts (DESIGN.md §10).

A count from 1 to 4 is shown as `"<5"` (primary suppression); 0 is shown as 0. A published
total lets a hidden cell be worked out by subtraction when it is the only hidden cell of its
line, so every line (a set of cells whose sum is another cell of the table, or a total
published elsewhere) must hide none or at least two of its members (complementary
suppression). While some line hides exactly one, the smallest non-zero shown cell among its
parts is hidden too, and the lines are checked again until none does.

A cell hidden as a complement holds 5 or more: it is shown as `"x"`, never as `"<5"`, which
would be untrue of it (the marker tells a reader only that the count is 5 or more, and the line
still hides at least two cells).

The function is pure: it takes the counts by cell key and the lines, and answers the set of
hidden keys. `apply` turns the counts into what is shown.
"""

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

SMALL = "<5"
COMPLEMENT = "x"
LOW, HIGH = 1, 4


def is_small(count: int) -> bool:
    return LOW <= count <= HIGH


@dataclass(frozen=True)
class Line:
    """`total` = the sum of `parts`. `total` is a cell key of the table, or None when the
    total is published elsewhere (another grouping of the same period) as `known`."""

    parts: tuple[Hashable, ...]
    total: Hashable | None = None
    known: int | None = None

    def __post_init__(self):
        if (self.total is None) == (self.known is None):
            raise ValueError("a line has either a total cell or a known total")


def suppress(
    counts: Mapping[Hashable, int],
    lines: Iterable[Line],
    *,
    fixed: Iterable[Hashable] = (),
    hidden: Iterable[Hashable] = (),
) -> set[Hashable]:
    """The keys of `counts` to hide.

    `fixed`: cells whose showing is decided elsewhere and never taken as complements here (the
    period's total, shared by every grouping, decided from the total row alone so that no
    grouping shows a total another hides); `hidden`: cells already hidden (the fixed cells
    decided hidden).

    Two checks, repeated until neither hides more: no line hides exactly one cell (subtraction
    from one total), and no hidden cell follows from all the lines taken together (`recoverable`:
    sums and differences of several totals). A cell whose value the fixed cells and the known
    totals give away whatever is hidden (the only school of a district shown elsewhere) is never
    taken as a complement: hiding it would protect nothing."""
    lines = list(lines)
    fixed = set(fixed)
    order = {key: n for n, key in enumerate(counts)}
    hidden = set(hidden) | {key for key, count in counts.items() if is_small(count)}
    by_cell: dict = {}
    for line in lines:
        for key in _members(line):
            by_cell.setdefault(key, []).append(line)
    pinned = _pinned(counts, lines, fixed, hidden)

    def complement(line: Line) -> bool:
        """Hide the smallest shown non-zero cell of the line; False when there is none."""
        candidates = [
            key
            for key in _members(line)
            if key not in hidden and key not in fixed and key not in pinned and counts[key] > 0
        ]
        if not candidates:
            return False
        hidden.add(min(candidates, key=lambda key: (counts[key], order[key])))
        return True

    def near(key) -> bool:
        """Hide a complement as close to `key` as possible: in one of its lines, else in a line
        of a hidden cell that shares one with it, and so on outwards."""
        seen_cells, seen_lines, frontier = {key}, set(), [key]
        while frontier:
            following = []
            for cell in frontier:
                for line in by_cell.get(cell, []):
                    if id(line) in seen_lines:
                        continue
                    seen_lines.add(id(line))
                    if complement(line):
                        return True
                    for other in _members(line):
                        if other in hidden and other not in seen_cells:
                            seen_cells.add(other)
                            following.append(other)
            frontier = following
        return False

    for _round in range(len(counts) + 1):
        changed = True
        while changed:
            changed = False
            for line in lines:
                if _hidden_in(line, hidden) == 1 and complement(line):
                    changed = True
        if len(hidden) > AUDIT_LIMIT:
            break
        grew = False
        for key in sorted(recoverable(lines, hidden) - pinned, key=lambda key: order[key]):
            grew = near(key) or grew
        if not grew:
            break
    return hidden


def suppress_table(
    counts: Mapping[Hashable, int], lines: Iterable[Line], totals: Iterable[Hashable]
) -> set[Hashable]:
    """`suppress` for a grouping of a period whose total row (`totals`, shared by every
    grouping) is decided first from its own lines alone, then fixed."""
    lines = list(lines)
    totals = set(totals)
    own = [line for line in lines if line.known is None and set(_members(line)) <= totals]
    decided = suppress({key: counts[key] for key in counts if key in totals}, own)
    return suppress(counts, lines, fixed=totals, hidden=decided)


def _pinned(counts: Mapping, lines: list, fixed: set, hidden: set) -> set:
    """Cells given away whatever else is hidden: those that follow from the cells that are
    always shown (the fixed cells shown, zeros) and the known totals alone."""
    most = {key for key, n in counts.items() if n and (key not in fixed or key in hidden)}
    return recoverable(lines, most)


# The exact check of all the lines together runs while the table hides at most this many cells:
# a province's schools by school hide a few thousand, checked in tens of milliseconds.
AUDIT_LIMIT = 100_000
# Arithmetic modulo a large prime: a cell follows from the lines exactly when it does over the
# rationals, but for a chance of about one in 2**61.
PRIME = 2**61 - 1


def _members(line: Line) -> list:
    return list(line.parts) + ([line.total] if line.total is not None else [])


def _hidden_in(line: Line, hidden: set) -> int:
    n = sum(1 for key in _members(line) if key in hidden)
    if line.known is not None and is_small(line.known):
        n += 1
    return n


def recoverable(lines: Iterable[Line], hidden: set, *, seed: int = 2026) -> set:
    """The hidden cells whose value follows from the shown cells and the lines, by any
    combination of sums and differences: the system of the lines in the hidden cells is
    brought to echelon form, and two random solutions of its homogeneous part are drawn; a
    cell that is zero in both is fixed by the shown cells (a cell that is not fixed is zero in
    a random solution with a chance of one in 2**61)."""
    import random

    rows, uses = [], {}
    for line in lines:
        if line.known is not None and is_small(line.known):
            continue  # that total is itself hidden where it is published
        row: dict = {}
        for key in line.parts:
            if key in hidden:
                row[key] = (row.get(key, 0) + 1) % PRIME
        if line.total is not None and line.total in hidden:
            row[line.total] = (row.get(line.total, 0) - 1) % PRIME
        row = {key: a for key, a in row.items() if a}
        if row:
            rows.append(row)
            for key in row:
                uses[key] = uses.get(key, 0) + 1
    rows.sort(key=len)
    pivots: dict = {}
    created: list = []
    rank = {}
    for row in rows:
        pending = [key for key in row if key in pivots]
        while pending:
            pivot = pending.pop()
            c = row.get(pivot)
            if not c:
                continue
            for key, a in pivots[pivot].items():
                value = (row.get(key, 0) - c * a) % PRIME
                if value:
                    if key not in row and key in pivots:
                        pending.append(key)
                    row[key] = value
                else:
                    row.pop(key, None)
        if not row:
            continue
        pivot = min(row, key=lambda key: (uses.get(key, 0), rank.setdefault(key, len(rank))))
        inverse = pow(row[pivot], PRIME - 2, PRIME)
        pivots[pivot] = {key: a * inverse % PRIME for key, a in row.items()}
        created.append(pivot)
    rng = random.Random(seed)
    fixed = set(hidden)
    for _draw in range(2):
        value = {}
        for pivot in reversed(created):
            total = 0
            for key, a in pivots[pivot].items():
                if key == pivot:
                    continue
                if key not in value:
                    value[key] = rng.randrange(1, PRIME)  # a free cell
                total += a * value[key]
            value[pivot] = -total % PRIME
        fixed &= {key for key in hidden if key in value and value[key] == 0}
    return fixed


def shown(count: int, hidden: bool) -> int | str:
    if not hidden:
        return count
    return SMALL if is_small(count) else COMPLEMENT


def apply(counts: Mapping[Hashable, int], hidden: set) -> dict[Hashable, int | str]:
    """What is shown: each count, `"<5"` where a count from 1 to 4 is hidden, `"x"` where a
    larger one is hidden as a complement."""
    return {key: shown(count, key in hidden) for key, count in counts.items()}


REST = "__rest__"


def column(counts: Mapping[Hashable, int], total: int) -> dict[Hashable, int | str]:
    """One column of counts shown beside its `total` (shown elsewhere on the page), as shown:
    small cells hidden and, where one alone would follow from the total, a complement with it.
    The counts of rows the column leaves out (a top ten) make one unseen part that keeps the
    sum honest."""
    table = dict(counts)
    rest = total - sum(table.values())
    parts = tuple(table)
    hidden: set = set()
    if rest > 0:
        table[REST] = rest
        parts += (REST,)
        hidden.add(REST)
    found = suppress(table, [Line(parts, known=total)], hidden=hidden)
    return {key: value for key, value in apply(table, found).items() if key != REST}
