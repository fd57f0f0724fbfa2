"""The isolation matrix's entries for the early-discovery routes (merged into matrix.ROUTES):
indicator files are imported by a school's coordinator only (without a file every signed-in
caller gets 400, like the roster import; who may import is tested in tests/casework/discovery/);
the thresholds in force are read by a school's staff for their own school and set by its
coordinator only, each for their own school."""

from tests.access.routes_base import Route

TIGHTER = {
    "absence_days": 2,
    "absence_percent": 10,
    "not_reached_subjects": 2,
    "screening_level": "interest",
}
SCHOOL_STAFF = {"anonymous": 401, "teacher": 200, "coordinator": 200, "coordinator2": 200}

ROUTES: dict[str, Route] = {
    "api-indicator-import": Route(
        method="post",
        query="?kind=attendance",
        expect={"anonymous": 401, "*": 400},
        note="no file: 400 for everyone; who may import is tested in tests/casework/discovery",
    ),
    "api-indicator-rules": Route(
        expect={**SCHOOL_STAFF, "*": 403},
        note="the thresholds of the caller's own school",
    ),
}
# PUT of the same route: the matrix keys routes by name, so it is covered by
# tests/casework/discovery/test_indicators.py (coordinator 200, teacher 403, looser 400).
