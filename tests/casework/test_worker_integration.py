"""A real Celery worker, a real Redis broker and the PostgreSQL test database: notifications are
e-mailed once after commit, and a broker outage at commit time is made good by the sweep.

Runs when IEUM_TEST_REDIS_URL names a Redis that answers (e.g. redis://127.0.0.1:6379/14; the
database is flushed) and the tests use PostgreSQL; skipped otherwise."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from casework import delivery, tasks
from casework.models import Notification
from casework.notify import notify
from tests import factories
from tests.casework.test_delivery import DEAD_BROKER, broker

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("IEUM_TEST_REDIS_URL", "")
QUEUE = "celery"  # the default queue's list in Redis
S = Notification.EmailStatus

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not REDIS_URL,
        reason="worker tests need IEUM_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/14)",
    ),
]


@pytest.fixture
def redis_db():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"worker tests need Redis at IEUM_TEST_REDIS_URL={REDIS_URL}: {exc}")
    client.flushdb()  # no messages left over from an earlier run
    yield client
    client.flushdb()
    client.close()


def _database_url() -> str:
    """The test database (pytest-django's test_… name) as a URL for the worker process."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path, mail_dir: Path):
        self.process, self.log, self.mail_dir = process, log, mail_dir

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def messages(self) -> list[str]:
        """Every e-mail the worker wrote, one string each (a file may hold several)."""
        found = []
        for path in sorted(self.mail_dir.iterdir()):
            text = path.read_text(errors="replace")
            found += [part for part in text.split("-" * 79) if "Message-ID:" in part]
        return found

    def files(self) -> list[Path]:
        return list(self.mail_dir.iterdir())


@pytest.fixture
def worker(transactional_db, redis_db, tmp_path):
    """`celery -A config worker --pool=solo -c 1` on the test database, sending e-mail to files."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker needs the PostgreSQL test database")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = tmp_path / "worker.log"
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "DB_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-c",
        "1",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"delivery-test-{uuid.uuid4().hex[:8]}@%h",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Worker(process, log, mail_dir)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in running.output():
            if process.poll() is not None:
                pytest.fail(f"the worker exited ({process.returncode}):\n{running.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not start within 60 s:\n{running.output()}")
            time.sleep(0.2)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def _wait_until(check, worker: Worker, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not check():
        if worker.process.poll() is not None:
            pytest.fail(f"the worker died while waiting for {what}:\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; worker log:\n{worker.output()}")
        time.sleep(0.2)


def _status(row) -> str:
    return Notification.objects.get(pk=row.pk).email_status


def test_worker_delivers_a_notification_once_after_commit(worker, redis_db):
    user = factories.UserFactory(username="receiver")
    with broker(REDIS_URL):
        with transaction.atomic():
            (row,) = notify([user], kind="test", title="사례가 배정되었습니다", url="/casework/")
            assert redis_db.llen(QUEUE) == 0  # nothing is published before the commit
        _wait_until(lambda: _status(row) == S.SENT, worker, "the worker to send the e-mail")
    time.sleep(1)  # room for a second, wrong delivery to show up
    assert len(worker.files()) == 1
    (message,) = worker.messages()
    assert f"To: {user.email}" in message
    row = Notification.objects.get(pk=row.pk)
    assert (row.email_status, row.email_attempts) == (S.SENT, 1)
    assert row.emailed_at is not None
    assert "succeeded" in worker.output()


def test_broker_down_at_commit_then_sweep_delivers_exactly_once(worker, redis_db):
    user = factories.UserFactory(username="receiver")
    with broker(DEAD_BROKER):
        started = time.monotonic()
        with transaction.atomic():
            (row,) = notify([user], kind="test", title="의뢰가 도착했습니다", url="/casework/")
        assert time.monotonic() - started < 3  # the commit did not wait for the broker
    assert _status(row) == S.PENDING
    time.sleep(1)
    assert redis_db.llen(QUEUE) == 0
    assert worker.messages() == []
    assert _status(row) == S.PENDING

    with broker(REDIS_URL):  # the broker is back: the sweep enqueues through it
        counts = tasks.sweep_notifications.apply(kwargs={"older_than_seconds": 0}).get()
        assert counts == {"found": 1, "enqueued": 1, "delivered_inline": 0}
        _wait_until(lambda: _status(row) == S.SENT, worker, "the swept e-mail")
        # A second sweep, this time run by the worker itself, finds nothing more to send.
        tasks.sweep_notifications.delay(0)
        _wait_until(
            lambda: worker.output().count("casework.tasks.sweep_notifications[") >= 2,
            worker,
            "the worker's sweep",
        )
    time.sleep(1)
    (message,) = worker.messages()
    assert f"To: {user.email}" in message
    assert Notification.objects.get(pk=row.pk).email_attempts == 1
    assert delivery.stale_pending_ids(older_than=timedelta(0)) == []
