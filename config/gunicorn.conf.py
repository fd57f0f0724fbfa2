"""Gunicorn's settings for production (README "Production", docs/operations.md "Limits and
timeouts"): `gunicorn -c config/gunicorn.conf.py config.wsgi`. Every value comes from the
environment, with these defaults."""

import multiprocessing
import os

# Processes started with this file are web processes: their queries get WEB_STATEMENT_TIMEOUT_MS
# (config/settings.py); Celery workers and management commands do not.
os.environ["IEUM_WEB_PROCESS"] = "1"

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
# One sync worker per core: on a machine shared with PostgreSQL more only contend for the cores
# (docs/performance.md).
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count())))
# A request still running after this many seconds is killed with its worker; above the
# statement timeout, so a slow query is cancelled (and answered) first.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Workers are replaced after this many requests (with jitter, so not all at once): what a
# long-lived process accumulates goes with it.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
