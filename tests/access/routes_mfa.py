"""The isolation matrix's entries for the mfa routes (merged into matrix.ROUTES)."""

from tests.access.routes_base import Route

ROUTES: dict[str, Route] = {}
