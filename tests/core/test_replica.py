"""The read replica of the reports (core/replica.py): with DATABASE_REPLICA_URL set the reports'
statements go to the alias `replica` and nothing else does; without it they read the primary;
nothing migrates on the replica."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from casework.models import Case
from core.replica import PrimaryRouter, reports_database

ROOT = Path(__file__).resolve().parents[2]


def test_every_model_reads_and_writes_the_primary():
    router = PrimaryRouter()
    assert router.db_for_read(Case) == "default"
    assert router.db_for_write(Case) == "default"
    assert router.allow_migrate("default", "casework") is True
    assert router.allow_migrate("replica", "casework") is False


def test_reports_read_the_primary_without_a_replica(monkeypatch):
    monkeypatch.delitem(settings.DATABASES, "replica", raising=False)
    assert reports_database() == "default"
    monkeypatch.setitem(settings.DATABASES, "replica", dict(settings.DATABASES["default"]))
    assert reports_database() == "replica"


CHECK = """
import datetime
from django.db import connections
from django.test.utils import CaptureQueriesContext
from casework.reports import facts, summary
facts.refresh()  # on the primary: the job's work, not the report's
period = summary.Period(datetime.date(2026, 1, 1), datetime.date(2026, 6, 30))
with CaptureQueriesContext(connections["replica"]) as replica, \\
        CaptureQueriesContext(connections["default"]) as primary:
    report = summary.summary([], "school", period)
print(len(replica.captured_queries), len(primary.captured_queries), report["total"]["cases"])
print(connections["replica"].settings_dict["TEST"]["MIRROR"])
"""


@pytest.mark.django_db
def test_with_a_replica_the_reports_statements_go_there():
    """A process started with DATABASE_REPLICA_URL (here the test database under both names,
    two real connections) runs the summary's statements on the replica only."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATABASE_REPLICA_URL": url,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", CHECK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    counts, mirror = done.stdout.strip().splitlines()[-2:]
    # when the facts are as of and the two statements on the replica, none on the primary
    assert counts == "3 0 0"
    assert mirror == "default"  # tests run against the primary in the replica's place
