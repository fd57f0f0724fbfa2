"""Settings for the test suite: the real settings module with test-only defaults.

Database choice (DESIGN.md §7): DATABASE_URL if set (CI's .ci/run sets the machine's
PostgreSQL); else the embedded PostgreSQL under var/pg (config/embedded_postgres.py), started
here when it is not running. Either way pytest-django creates its test database on that server,
and DATABASE_URL is left in the environment for the processes the tests start.

Redis for the worker tests (tests/casework/notify/test_worker_integration.py): IEUM_TEST_REDIS_URL
if set; else the local Redis at 127.0.0.1:6379, database 15 (the tests flush it), when it
answers; else none, and the worker tests that need it are skipped with the skip announced. The
broker-outage test starts its own redis-server and needs only the binary.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("ACCESS_LOG_KEY", "tests-only-access-log-key-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# The suite signs its roles in with force_login (no second factor); the tests of the second
# factor turn MFA_REQUIRED on themselves (tests/partners/test_mfa.py).
os.environ.setdefault("MFA_REQUIRED", "0")


def _local_redis_answers() -> bool:
    try:
        import redis

        client = redis.Redis(
            host="127.0.0.1", port=6379, socket_connect_timeout=1, socket_timeout=1
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


if os.environ.get("DATABASE_URL"):
    TEST_DATABASE_SOURCE = "DATABASE_URL"
else:
    from config import embedded_postgres

    os.environ["DATABASE_URL"] = embedded_postgres.start()
    TEST_DATABASE_SOURCE = "embedded PostgreSQL under var/pg"

if os.environ.get("IEUM_TEST_REDIS_URL"):
    TEST_REDIS_URL = os.environ["IEUM_TEST_REDIS_URL"]
    TEST_REDIS_SOURCE = "IEUM_TEST_REDIS_URL"
elif _local_redis_answers():
    TEST_REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own: the tests flush it
    TEST_REDIS_SOURCE = "local Redis at 127.0.0.1:6379, database 15"
else:
    TEST_REDIS_URL = ""
    TEST_REDIS_SOURCE = "no IEUM_TEST_REDIS_URL, no local Redis at 127.0.0.1:6379"

from config.settings import *  # noqa: E402,F403

# Tests create many users; a fast hasher keeps them quick without changing behaviour.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No anchor store unless a test gives its own (tests/casework/audit/test_access_log_chain.py): the
# checkout's var/ belongs to the demo's database, not to the test databases.
ACCESS_LOG_ANCHORS = ""
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
