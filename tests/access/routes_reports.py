"""The isolation matrix's entries for the report routes (merged into matrix.ROUTES): aggregate
reports are the analyst's (their province), a centre head's (their office) and a principal's
(their school); every other role signed in is refused (403). Of the matrix's roles only the
analyst reads one; tests/casework/reports/test_summary_api.py and test_dashboard.py cover the
other two."""

from tests.access.routes_base import Route

ROUTES: dict[str, Route] = {
    "api-reports-summary": Route(expect={"anonymous": 401, "analyst": 200, "*": 403}),
    # The committee report of a district office of the analyst's province (the centre head's
    # own office and the principal's refusal: tests/casework/reports/test_committee.py).
    "api-reports-committee": Route(
        query=lambda w: f"?office={w.nambu.pk}&half=2026H1",
        expect={"anonymous": 401, "analyst": 200, "*": 403},
    ),
    "casework:report_dashboard": Route(
        expect={"anonymous": 302, "analyst": 200, "*": 403},
        note="the report readers only; tests/casework/reports/test_dashboard.py has the others",
    ),
}
