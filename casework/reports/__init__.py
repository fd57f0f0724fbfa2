"""Aggregate reports with small-cell suppression (DESIGN.md §10, docs/reports.md).

- `summary` — the summary report's grouped counts and medians, in two SQL statements.
- `suppression` — small-cell and complementary suppression of a table of counts (pure).

Who may read a report, over which schools, is `access.report_scope`'s answer.
"""
