"""A real Celery worker, a real Redis broker and the PostgreSQL test database: notifications are
e-mailed once after commit, and a broker outage at commit time is made good by the sweep.

The Redis is chosen like the database (tests/settings.py): IEUM_TEST_REDIS_URL if set, else the
local Redis at 127.0.0.1:6379 database 15 when it answers (the database is flushed), else the
tests marked `redis` are skipped and the report says so. The outage test starts, kills and
restarts its own redis-server and needs only the binary (marked `redis_server`)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from casework import tasks
from casework.models import Notification
from casework.notify import delivery, notify
from tests import factories
from tests.builders import DEAD_BROKER, broker

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = settings.TEST_REDIS_URL
QUEUE = "celery"  # the default queue's list in Redis
S = Notification.EmailStatus
NUMBER = {"number": "2026-S0001-0001"}


def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)


@pytest.fixture
def redis_db():
    import redis

    client = _redis_client(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        # Chosen explicitly (IEUM_TEST_REDIS_URL) or found answering a moment ago: not a skip.
        pytest.fail(f"the test Redis {REDIS_URL} ({settings.TEST_REDIS_SOURCE}) fails: {exc}")
    client.flushdb()  # no messages left over from an earlier run
    yield client
    client.flushdb()
    client.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A private redis-server on a free loopback port, with no persistence, that a test can kill
    and start again on the same port (an empty broker, as after a crash with no saved state)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir()
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.directory / f"redis-{self.starts}.log"
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--daemonize", "no",
        ]  # fmt: skip
        with log.open("w") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        client = _redis_client(self.url)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    if client.ping():
                        return
                except Exception:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    pytest.fail(f"redis-server did not start:\n{log.read_text(errors='replace')}")
                time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """Stop it dead (SIGKILL): no shutdown, nothing flushed."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def client(self):
        return _redis_client(self.url)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    try:
        server.start()
        yield server
    finally:
        server.kill()


def _database_url() -> str:
    """The test database (pytest-django's test_… name) as a URL for the worker process."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "127.0.0.1", safe="")  # a socket directory is a path
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


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


@contextmanager
def running_worker(broker_url: str, directory: Path) -> Iterator[Worker]:
    """`celery -A config worker --pool=solo -c 1` on the test database and `broker_url`, sending
    e-mail to files; stopped (its whole process group) however the block ends."""
    mail_dir = directory / "mail"
    mail_dir.mkdir()
    log = directory / "worker.log"
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "IEUM_TEST_REDIS_URL": broker_url,  # the worker's settings need not look for a Redis
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
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


@pytest.fixture
def worker(transactional_db, redis_db, tmp_path):
    with running_worker(REDIS_URL, tmp_path) as running:
        yield running


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


@pytest.mark.redis
def test_worker_delivers_a_notification_once_after_commit(worker, redis_db):
    user = factories.UserFactory(username="receiver")
    with broker(REDIS_URL):
        with transaction.atomic():
            (row,) = notify(
                [user], kind="team_added", params={**NUMBER, "name": "김하늘"}, url="/casework/"
            )
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


@pytest.mark.redis
def test_broker_down_at_commit_then_sweep_delivers_exactly_once(worker, redis_db):
    user = factories.UserFactory(username="receiver")
    with broker(DEAD_BROKER):
        started = time.monotonic()
        with transaction.atomic():
            (row,) = notify([user], kind="referral_assigned", params=NUMBER, url="/casework/")
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


def _sweeps(worker: Worker) -> list[str]:
    """The worker's log lines of finished sweep tasks, oldest first."""
    return [
        line
        for line in worker.output().splitlines()
        if "casework.tasks.sweep_notifications[" in line and " succeeded " in line
    ]


@pytest.mark.redis_server
def test_broker_killed_and_restarted_sweep_delivers_exactly_once(
    transactional_db, private_redis, tmp_path
):
    """The broker dies under a running worker; a notification committed meanwhile stays
    pending; the broker comes back empty on the same port and the sweep, run by the worker,
    gets the e-mail out once."""
    user = factories.UserFactory(username="receiver")
    with running_worker(private_redis.url, tmp_path) as worker:
        private_redis.kill()
        with broker(private_redis.url):
            started = time.monotonic()
            with transaction.atomic():
                (row,) = notify([user], kind="referral_assigned", params=NUMBER, url="/casework/")
            assert time.monotonic() - started < 3  # the commit did not wait for the broker
        time.sleep(1)  # the worker lives through the outage and sends nothing
        assert worker.process.poll() is None, worker.output()
        row = Notification.objects.get(pk=row.pk)
        assert (row.email_status, row.email_attempts) == (S.PENDING, 0)
        assert worker.messages() == []

        private_redis.start()
        client = private_redis.client()
        try:
            assert client.llen(QUEUE) == 0  # the lost publish is nowhere in the broker
        finally:
            client.close()
        with broker(private_redis.url):
            tasks.sweep_notifications.apply_async(kwargs={"older_than_seconds": 0})
            _wait_until(lambda: _status(row) == S.SENT, worker, "the swept e-mail")
            # A second sweep, after the delivery, finds nothing left to send.
            tasks.sweep_notifications.apply_async(kwargs={"older_than_seconds": 0})
            _wait_until(lambda: len(_sweeps(worker)) >= 2, worker, "the second sweep")
        first, second = _sweeps(worker)
        assert "'found': 1" in first
        assert "'found': 0" in second
        (message,) = worker.messages()
        assert f"To: {user.email}" in message
        assert "Connection to broker lost" in worker.output()
    row = Notification.objects.get(pk=row.pk)
    assert (row.email_status, row.email_attempts) == (S.SENT, 1)
    assert delivery.stale_pending_ids(older_than=timedelta(0)) == []
