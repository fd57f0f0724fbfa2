"""The isolation matrix's entries for the retention routes of oversight (merged into matrix.ROUTES):
the register of destruction is the privacy officer's."""

from tests.access.routes_base import Route

ROUTES: dict[str, Route] = {
    "api-audit-destructions": Route(expect={"anonymous": 401, "privacy": 200, "*": 403}),
    "casework:destruction_register": Route(expect={"anonymous": 302, "privacy": 200, "*": 403}),
}
