"""Settings come from the environment with safe defaults (DESIGN.md §7)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.urls import reverse

from config import embedded_postgres

ROOT = Path(__file__).resolve().parents[2]
# Warnings only TLS termination or the domain owner can settle (docs/operations.md explains each).
TLS_ONLY_WARNINGS = {"security.W021"}


def run_manage(*args, **env):
    # Start from the real environment without the test suite's own opt-outs (tests/settings.py).
    unset = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT"}
    unset |= {"SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings"
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_debug_off():
    result = run_manage(
        "check",
        "--deploy",
        SECRET_KEY="x" * 60 + "-a-long-random-production-key",
        ALLOWED_HOSTS="ieum.example.kr",
    )
    issues = set(re.findall(r"\((\w+\.[EW]\d+)\)", result.stdout + result.stderr))
    assert issues <= TLS_ONLY_WARNINGS, result.stdout + result.stderr


def test_secret_key_is_required_when_debug_is_off():
    result = run_manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_demo_defaults_run_without_services():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; db = s.DATABASES['default']; "
        "print(s.DEBUG, s.CELERY_TASK_ALWAYS_EAGER, db['ENGINE'], db['HOST'], db['NAME'])",
        DEBUG="1",
        DATABASE_URL="",
        CELERY_BROKER_URL="",
    )
    assert result.returncode == 0, result.stderr
    # Without DATABASE_URL: the embedded PostgreSQL's socket under var/pg (config/embedded_postgres).
    socket_dir = dj_database_url.parse(embedded_postgres.url())["HOST"]
    assert result.stdout.split() == [
        "True",
        "True",
        "django.db.backends.postgresql",
        socket_dir,
        "ieum",
    ]


def test_only_postgresql_is_accepted():
    result = run_manage("check", DEBUG="1", DATABASE_URL="mysql://ieum@127.0.0.1/ieum")
    assert result.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL database" in result.stderr


def test_loopback_deployment_can_turn_tls_defaults_off():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)",
        SECRET_KEY="k" * 60,
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False"]


def test_korean_first_in_seoul_time():
    assert settings.LANGUAGE_CODE == "ko"
    assert settings.TIME_ZONE == "Asia/Seoul"
    assert [code for code, _ in settings.LANGUAGES] == ["ko", "en"]


def test_sessions_end_after_thirty_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert "config.middleware.IdleSessionMiddleware" in settings.MIDDLEWARE
    assert settings.SESSION_REFRESH_SECONDS <= 60


def test_the_favicon_is_ours_and_found(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    icon = client.get(answer["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)
    login = client.get(reverse("login"))
    assert login.status_code == 200 and 'rel="icon"' in login.content.decode()


def test_the_demo_points_to_the_accounts_document_that_exists():
    root = Path(__file__).resolve().parents[2]
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    assert "accounts: docs/demo.md" in makefile and (root / "docs" / "demo.md").exists()


GUNICORN = """
import os, runpy
conf = runpy.run_path("config/gunicorn.conf.py")
print(conf["workers"], conf["timeout"], conf["graceful_timeout"], conf["max_requests"],
      conf["max_requests_jitter"], os.environ["IEUM_WEB_PROCESS"])
"""


def test_the_gunicorn_file_bounds_requests_and_marks_a_web_process():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "WEB_"))}
    done = subprocess.run(
        [sys.executable, "-c", GUNICORN], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    workers, timeout, graceful, most, jitter, web = done.stdout.split()
    assert int(workers) == os.cpu_count()
    assert (timeout, graceful, most, jitter, web) == ("60", "30", "2000", "200", "1")


def test_only_a_web_process_has_a_statement_timeout():
    show = "from django.db import connection; print(connection.settings_dict['OPTIONS'])"
    web = run_manage("shell", "-c", show, DEBUG="1", IEUM_WEB_PROCESS="1")
    other = run_manage("shell", "-c", show, DEBUG="1")
    assert "statement_timeout=30000" in web.stdout, web.stderr
    assert "statement_timeout" not in other.stdout, other.stderr
