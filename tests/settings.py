"""Settings for the test suite: the real settings module with test-only defaults.

Database choice (DESIGN.md §7): DATABASE_URL if set; else the local PostgreSQL at
127.0.0.1:5432 (user postgres) when it answers; else SQLite, with the PostgreSQL-only and
worker tests skipped and the skip announced in the test report header.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")


def _local_postgres_answers() -> bool:
    try:
        import psycopg2

        psycopg2.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=2
        ).close()
    except Exception:
        return False
    return True


if not os.environ.get("DATABASE_URL"):
    if _local_postgres_answers():
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/ieum"
        TEST_DATABASE_SOURCE = "local PostgreSQL at 127.0.0.1:5432"
    else:
        TEST_DATABASE_SOURCE = "SQLite (no DATABASE_URL, no local PostgreSQL)"
else:
    TEST_DATABASE_SOURCE = "DATABASE_URL"

from config.settings import *  # noqa: E402,F403

# Tests create many users; a fast hasher keeps them quick without changing behaviour.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
