"""The hot paths of DESIGN.md §8 (`hot_paths` in tests/builders.py) answer with a fixed number of
SQL queries, the same at two data sizes (no N+1, no growth with data): at most 15 each (issue
budget; timing is bench/'s job)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.builders import hot_paths, populate_hot_paths

pytestmark = pytest.mark.django_db
BUDGET = 15


def query_counts(world, case) -> dict[str, int]:
    counts = {}
    for username, path in hot_paths(world, case):
        client = APIClient()
        client.force_login(world[username])
        client.get(path)  # the session's first renewal is not the steady state
        with CaptureQueriesContext(connection) as ctx:
            answer = client.get(path)
        assert answer.status_code == 200, path
        counts[path.replace(str(case.pk), "<case>")] = len(ctx.captured_queries)
    return counts


# The budget is PostgreSQL's, where production runs: a page's access event is one statement.
@pytest.mark.parametrize("size", [2, 9])
def test_hot_paths_stay_within_the_query_budget(world, size, django_assert_max_num_queries):
    case = populate_hot_paths(world, size)
    for username, path in hot_paths(world, case):
        client = APIClient()
        client.force_login(world[username])
        client.get(path)  # the session's first renewal is not the steady state
        with django_assert_max_num_queries(BUDGET, info=path):
            answer = client.get(path)
        assert answer.status_code == 200, path


def test_hot_paths_do_not_grow_with_the_data(world):
    small = query_counts(world, populate_hot_paths(world, 2))
    large = query_counts(world, populate_hot_paths(world, 7))  # nine of everything now
    assert large == small
