"""The attacker of the suppression tests (tests/casework/reports/): which hidden cells follow
from the shown ones and the sums a reader can take, by exact Gauss-Jordan elimination over the
rationals — not only one subtraction at a time."""

from collections.abc import Hashable, Iterable, Mapping
from fractions import Fraction


def recovered(unknown: Iterable[Hashable], equations: Iterable[Mapping[Hashable, int]]) -> set:
    """The cells of `unknown` whose value the equations determine (each equation: cell →
    coefficient, the terms summing to a known value; cells not in `unknown` are known)."""
    unknown = sorted(unknown, key=repr)
    index = {cell: i for i, cell in enumerate(unknown)}
    rows = []
    for equation in equations:
        row = [Fraction(0)] * len(unknown)
        for cell, coefficient in equation.items():
            if cell in index:
                row[index[cell]] += coefficient
        if any(row):
            rows.append(row)
    pivots, r = {}, 0
    for c in range(len(unknown)):
        found = next((i for i in range(r, len(rows)) if rows[i][c]), None)
        if found is None:
            continue
        rows[r], rows[found] = rows[found], rows[r]
        rows[r] = [v / rows[r][c] for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c]:
                factor = rows[i][c]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots[c], r = r, r + 1
    return {
        unknown[c] for c, i in pivots.items() if all(not v for j, v in enumerate(rows[i]) if j != c)
    }
