"""The isolation matrix's entries for the auditlog routes of oversight (merged into matrix.ROUTES):
the access log is the privacy officer's alone; everyone else signed in is refused (403)."""

from tests.access.routes_base import Route

ROUTES: dict[str, Route] = {
    "api-audit-access": Route(expect={"anonymous": 401, "privacy": 200, "*": 403}),
    "casework:access_log": Route(expect={"anonymous": 302, "privacy": 200, "*": 403}),
}
