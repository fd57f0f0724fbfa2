"""The isolation matrix's entries for the retention routes of oversight (merged into matrix.ROUTES)."""

from tests.access.routes_base import Route

ROUTES: dict[str, Route] = {}
