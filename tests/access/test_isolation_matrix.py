"""The isolation matrix: every route of the URL conf × anonymous and a set of roles → status.

The table is tests/access/matrix.py (ROUTES), generated from the URL conf, so a new route without
an entry fails `test_every_route_has_an_entry`; the objects it points at are the
`school_objects` fixture (tests/conftest.py), foreign to every role but their school's
coordinator. Case content must answer 404 to whoever may not see it (DESIGN.md §5).
"""

import pytest
from rest_framework.test import APIClient

from tests.access.matrix import ROLES, ROUTE_KEYS, ROUTES, build_path, entry_for, route_keys


def test_every_route_has_an_entry():
    missing = [key for key in route_keys() if entry_for(key) is None]
    assert not missing, f"routes without an isolation-matrix entry: {missing}"


def test_no_stale_entries():
    keys = set(route_keys())
    stale = [key for key in ROUTES if key not in keys]
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


@pytest.mark.django_db
@pytest.mark.parametrize("key", ROUTE_KEYS)
def test_isolation_matrix(school_objects, key):
    """Every role in ROLES against one route; the failure message lists every role that got the
    wrong answer."""
    world = school_objects
    route = entry_for(key)
    path = build_path(key, route, world)
    wrong = []
    for role in ROLES:
        if role in route.skip_roles:
            continue
        client = APIClient()
        if role != "anonymous":
            client.force_login(world[role])
        send = getattr(client, route.method)
        response = send(path, data=route.data, **route.extra) if route.data else send(path)
        expected = route.expected(role)
        allowed = expected if isinstance(expected, tuple) else (expected,)
        if response.status_code not in allowed:
            wrong.append(f"{role}: {response.status_code} (expected {expected})")
    assert not wrong, f"{route.method.upper()} {path}: " + "; ".join(wrong)
