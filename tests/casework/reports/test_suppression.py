"""Small-cell suppression as a pure function (casework/reports/suppression.py): counts from 1 to
4 are hidden, zeros and larger counts shown, and complements hidden until no hidden cell can be
worked out from the shown cells and the totals — neither by subtracting within one row, column
or total, nor by any combination of them (checked here with exact rational arithmetic,
independently of the module's own check)."""

import random

import pytest

from casework.reports import suppression as sp
from casework.reports.suppression import Line
from tests import elimination

T = "T"  # the total row and column


def grid(values: list[list[int]]):
    """A table with its row totals, column totals and grand total, and the lines a reader may
    add up: each row to its total, each column (the totals' column included) to the total row."""
    counts = {}
    n_rows, n_cols = len(values), len(values[0])
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            counts[(r, c)] = value
        counts[(r, T)] = sum(row)
    for c in [*range(n_cols), T]:
        counts[(T, c)] = sum(counts[(r, c)] for r in range(n_rows))
    lines = [Line(tuple((r, c) for c in range(n_cols)), total=(r, T)) for r in range(n_rows)]
    lines += [Line(tuple((r, c) for r in range(n_rows)), total=(T, c)) for c in [*range(n_cols), T]]
    lines.append(Line(tuple((T, c) for c in range(n_cols)), total=(T, T)))
    return counts, lines


def members(line: Line) -> list:
    return list(line.parts) + ([line.total] if line.total is not None else [])


def peel(counts, lines, hidden) -> dict:
    """The attack by subtraction: while some line has exactly one unknown cell, work it out
    from the line's other cells (its total minus its shown parts, or the parts' sum). Returns
    what it recovered."""
    known = {key: value for key, value in counts.items() if key not in hidden}
    recovered = {}
    progress = True
    while progress:
        progress = False
        for line in lines:
            unknown = [key for key in members(line) if key not in known]
            if line.known is not None and sp.is_small(line.known):
                continue  # that total is hidden where it is published
            if len(unknown) != 1:
                continue
            key = unknown[0]
            total = known[line.total] if line.total is not None else line.known
            parts = sum(known[p] for p in line.parts if p != key)
            known[key] = total - parts if key != line.total else parts
            recovered[key] = known[key]
            progress = True
    return recovered


def determined(counts, lines, hidden) -> set:
    """The attack by any combination of the lines (tests/elimination.py): a line with a
    published total is an equation in the hidden cells; a small known total is not published."""
    equations = []
    for line in lines:
        if line.known is not None and sp.is_small(line.known):
            continue
        equation = dict.fromkeys(line.parts, 1)
        if line.total is not None:
            equation[line.total] = equation.get(line.total, 0) - 1
        equations.append(equation)
    return elimination.recovered(hidden, equations)


def given_away(counts, lines, hidden, totals) -> set:
    """What follows from the total row (shared by every grouping, so decided from its own
    lines) and the zeros alone, whatever else is hidden: nothing can protect it."""
    totals = set(totals)
    most = {key for key, n in counts.items() if n and (key not in totals or key in hidden)}
    return determined(counts, lines, most)


def assert_safe(counts, lines, hidden, totals=()):
    lost = given_away(counts, lines, hidden, totals) if totals else set()
    for line in lines:
        if set(members(line)) & lost:
            continue
        n = sum(1 for key in members(line) if key in hidden)
        if line.known is not None and sp.is_small(line.known):
            n += 1
        assert n != 1, f"{line} hides exactly one cell"
    assert not set(peel(counts, lines, hidden)) - lost, "a hidden cell recovered by subtraction"
    assert not determined(counts, lines, hidden) - lost, "a hidden cell follows from the totals"


# --- Primary suppression -------------------------------------------------------------------------


def test_counts_from_one_to_four_are_hidden_zeros_and_five_shown():
    counts = {"a": 0, "b": 1, "c": 4, "d": 5, "e": 17}
    hidden = sp.suppress(counts, [])
    assert hidden == {"b", "c"}
    assert sp.apply(counts, hidden) == {"a": 0, "b": "<5", "c": "<5", "d": 5, "e": 17}


def test_a_complement_shows_as_x_never_as_less_than_five():
    counts, lines = grid([[3, 12], [20, 30]])
    hidden = sp.suppress(counts, lines)
    shown = sp.apply(counts, hidden)
    assert shown[(0, 0)] == "<5"
    for key in hidden:
        assert shown[key] == ("<5" if sp.is_small(counts[key]) else "x")
        assert counts[key] > 0


def test_nothing_small_hides_nothing():
    counts, lines = grid([[5, 12], [20, 0]])
    assert sp.suppress(counts, lines) == set()


# --- Complementary suppression -------------------------------------------------------------------


def test_one_small_cell_takes_a_complement_in_its_row_and_its_column():
    counts, lines = grid([[3, 12, 40], [20, 30, 50], [7, 9, 60]])
    hidden = sp.suppress(counts, lines)
    assert (0, 0) in hidden
    assert any(key in hidden for key in [(0, 1), (0, 2), (0, T)])  # its row
    assert any(key in hidden for key in [(1, 0), (2, 0), (T, 0)])  # its column
    assert_safe(counts, lines, hidden)


def test_the_smallest_shown_cell_is_taken_and_totals_only_last():
    counts, lines = grid([[3, 12, 40], [20, 30, 50], [7, 9, 60]])
    hidden = sp.suppress_table(counts, lines, totals=[(T, c) for c in [0, 1, 2, T]])
    assert (0, 1) in hidden  # 12, the smallest of its row
    assert (2, 0) in hidden  # 7, the smallest of its column
    assert not hidden & {(T, 0), (T, 1), (T, 2), (T, T)}


def test_a_small_total_hides_with_its_parts():
    counts, lines = grid([[1, 0], [2, 0]])
    hidden = sp.suppress(counts, lines)
    assert {(0, 0), (1, 0), (T, 0), (T, T)} <= hidden
    assert sp.apply(counts, hidden)[(0, 1)] == 0  # zeros stay shown
    assert_safe(counts, lines, hidden)


def test_cells_that_follow_from_several_totals_together_are_hidden_too():
    # Two blocks of hidden cells joined by one: every row and column hides two or more, yet the
    # joining cell is row 0 + row 1 - column 0 - column 1 of the shown totals. The one-line
    # rule alone leaves it open; the module's check of all the lines closes it.
    values = [[50] * 5 for _ in range(5)]
    small = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (0, 2)]
    for r, c in small:
        values[r][c] = 2
    counts, lines = grid(values)
    assert determined(counts, lines, set(small)) == {(0, 2)}
    assert not peel(counts, lines, set(small))
    hidden = sp.suppress(counts, lines)
    assert set(small) < hidden
    assert_safe(counts, lines, hidden)


@pytest.mark.parametrize("seed", range(300))
def test_no_hidden_cell_of_a_random_table_can_be_recovered(seed):
    rng = random.Random(seed)
    n_rows, n_cols = rng.randint(2, 7), rng.randint(2, 5)
    values = [
        [rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 14, 30]) for _c in range(n_cols)]
        for _r in range(n_rows)
    ]
    counts, lines = grid(values)
    totals = [(T, c) for c in [*range(n_cols), T]]
    hidden = sp.suppress_table(counts, lines, totals=totals)
    assert {key for key, n in counts.items() if sp.is_small(n)} <= hidden
    assert all(counts[key] > 0 for key in hidden)  # zeros are never hidden
    assert_safe(counts, lines, hidden, totals)


def test_what_the_total_row_gives_away_is_hidden_but_cannot_be_protected():
    # Row 1 holds nothing in columns 0 and 1, so row 0's total (4) is the total row's
    # 18 - 14 whatever is hidden: the total row, decided alike for every grouping, shows both.
    counts, lines = grid([[2, 2, 0], [0, 0, 14]])
    totals = [(T, 0), (T, 1), (T, 2), (T, T)]
    hidden = sp.suppress_table(counts, lines, totals=totals)
    assert {(0, 0), (0, 1), (0, T), (T, 0), (T, 1)} <= hidden
    assert given_away(counts, lines, hidden, totals) >= {(0, T)}
    assert_safe(counts, lines, hidden, totals)


def test_every_hidden_cell_survives_the_attack_from_rows_columns_and_the_total():
    counts, lines = grid([[2, 8, 15, 0], [11, 1, 6, 22], [9, 13, 4, 7], [0, 5, 3, 18]])
    hidden = sp.suppress_table(counts, lines, totals=[(T, c) for c in [0, 1, 2, 3, T]])
    for key in hidden:
        # Each one alone: the attacker knows every other cell that is shown.
        assert key not in peel(counts, lines, hidden)
    assert_safe(counts, lines, hidden)


# --- A total published by another grouping ---------------------------------------------------------


def test_a_subtotal_shown_elsewhere_forces_a_complement_among_its_parts():
    # Schools 0 and 1 make up a district whose row (10 + 3 = 13) the district grouping shows:
    # school 1's 3 would be 13 - 10 without a second hidden cell among the district's schools.
    # School 2 is its district's only school: the district grouping shows its 8 anyway, so
    # hiding it would protect nothing.
    counts = {("s0", "n"): 10, ("s1", "n"): 3, ("s2", "n"): 8, (T, "n"): 21}
    lines = [
        Line((("s0", "n"), ("s1", "n"), ("s2", "n")), total=(T, "n")),
        Line((("s0", "n"), ("s1", "n")), known=13),
        Line((("s2", "n"),), known=8),
    ]
    hidden = sp.suppress_table(counts, lines, totals=[(T, "n")])
    assert hidden == {("s0", "n"), ("s1", "n")}
    assert_safe(counts, lines, hidden)


def test_a_small_subtotal_is_hidden_where_it_is_published():
    counts = {("s0", "n"): 2, ("s1", "n"): 0, ("s2", "n"): 9, (T, "n"): 11}
    lines = [
        Line((("s0", "n"), ("s1", "n"), ("s2", "n")), total=(T, "n")),
        Line((("s0", "n"), ("s1", "n")), known=2),
    ]
    hidden = sp.suppress_table(counts, lines, totals=[(T, "n")])
    assert ("s0", "n") in hidden and ("s2", "n") in hidden
    assert_safe(counts, lines, hidden)


def test_a_line_has_a_total_cell_or_a_known_total_not_both():
    with pytest.raises(ValueError):
        Line(("a",))
    with pytest.raises(ValueError):
        Line(("a",), total="b", known=3)


def test_the_module_check_agrees_with_exact_arithmetic():
    rng = random.Random(7)
    for _round in range(30):
        values = [[rng.choice([1, 2, 5, 9, 20]) for _c in range(4)] for _r in range(4)]
        counts, lines = grid(values)
        some = {key for key in counts if rng.random() < 0.4}
        assert sp.recoverable(lines, some) == determined(counts, lines, some)


def test_a_column_beside_its_total_hides_a_complement():
    shown = sp.column({"a": 3, "b": 10, "c": 7}, 20)
    assert shown == {"a": "<5", "b": 10, "c": "x"}


def test_rows_left_out_of_a_column_count_as_hidden():
    # A top two of three schools: the third's 7 is not on the page, so a's 3 cannot be derived.
    assert sp.column({"a": 3, "b": 10}, 20) == {"a": "<5", "b": 10}
    assert sp.column({"a": 6, "b": 10}, 16) == {"a": 6, "b": 10}
