"""Roster imports from NEIS-style exports (CSV in UTF-8 or CP949, or XLSX).

Three steps, so that a dry run and a real run judge a file the same way:

- `parse` reads the file and validates every row, producing row errors `{row, field, message}`
  with row numbers as the spreadsheet shows them (the header is row 1, the first student row 2)
  and the column header as written in the file (`files`, `parse`);
- `plan_import` matches the rows against the school's roster (NEIS id first, else name and birth
  date) and works out what would be created or changed, without writing (`plan`);
- `apply_import` does that in one transaction, all or nothing, writing history in bulk (`write`).

`preview` and `capped` are what a job shows of the result (`report`).

Callers write `from casework import imports` and use the names below (the job's run is
casework/workflows/roster.py).
"""

from .files import (
    HEADER_SCAN_ROWS,
    MAX_ROWS,
    FileTooLarge,
    RosterFileError,
    cell_text,
    check_xlsx,
    read_table,
)
from .parse import COLUMNS, PROGRESS_EVERY, REQUIRED, Parsed, Progress, RosterRow, parse
from .plan import GUARDIAN_COLUMNS, STUDENT_COLUMNS, Plan, new_ids, plan_import
from .report import MAX_ERRORS, PREVIEW_ROWS, capped, preview
from .write import CHANGE_REASON, apply_import, write_plan

__all__ = [
    "CHANGE_REASON",
    "COLUMNS",
    "GUARDIAN_COLUMNS",
    "HEADER_SCAN_ROWS",
    "MAX_ERRORS",
    "MAX_ROWS",
    "PREVIEW_ROWS",
    "PROGRESS_EVERY",
    "REQUIRED",
    "STUDENT_COLUMNS",
    "FileTooLarge",
    "Parsed",
    "Plan",
    "Progress",
    "RosterFileError",
    "RosterRow",
    "apply_import",
    "capped",
    "cell_text",
    "check_xlsx",
    "new_ids",
    "parse",
    "plan_import",
    "preview",
    "read_table",
    "write_plan",
]
