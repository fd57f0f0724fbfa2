"""Ieum settings, read from the environment.

Every value has a default that is safe for the demo only; see docs/operations.md for production.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import embedded_postgres

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (see README: production settings)."
        )
    # Demo only: DEBUG is on, so this key never protects real data.
    SECRET_KEY = "ieum-demo-insecure-key-not-for-production"

# The access log's chain is keyed (HMAC-SHA256): a row's hash cannot be made without this key,
# which lives in the environment only, never in the database (docs/operations.md: access log).
ACCESS_LOG_KEY = os.environ.get("ACCESS_LOG_KEY", "")
if not ACCESS_LOG_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "ACCESS_LOG_KEY must be set when DEBUG is off (see docs/operations.md: access log)."
        )
    # Demo only: DEBUG is on, so this key never vouches for a real access log.
    ACCESS_LOG_KEY = "ieum-demo-access-log-key-not-for-production"
elif len(ACCESS_LOG_KEY) < 32:
    raise ImproperlyConfigured("ACCESS_LOG_KEY must be at least 32 characters long.")
# PIPA safeguards (5조, 8조): access logs of sensitive data are kept at least two years; past
# this many years a whole month is dropped (casework/audit/partitions.py).
ACCESS_LOG_YEARS = int(os.environ.get("ACCESS_LOG_YEARS", 2))
if ACCESS_LOG_YEARS < 2:
    raise ImproperlyConfigured("ACCESS_LOG_YEARS must be at least 2 (PIPA: two years).")
# Where each month's chain head is published, outside the database: comma-separated append-only
# file paths and/or `syslog` (the local socket) or `syslog:<socket path | host[:port]>`.
ACCESS_LOG_ANCHORS = os.environ.get(
    "ACCESS_LOG_ANCHORS", str(BASE_DIR / "var" / "access-log-anchors.log")
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, not a CDN
    "guardian",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",  # the authenticator app's codes (RFC 6238)
    "django_otp.plugins.otp_static",  # single-use recovery codes
    "partners",
    "casework",
    "seed",  # seed_network, seed_demo, seed_scale
]

MIDDLEWARE = [
    "core.limits.BodySizeMiddleware",  # first: refuses an oversized body before it is read
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.IdleSessionMiddleware",
    "config.middleware.KoreanFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.memo.RequestMemoMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.params.BadInputMiddleware",
    "partners.mfa.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "partners.context_processors.current_memberships",
                "casework.context_processors.menu",
            ],
        },
    },
]

# --- Database: PostgreSQL only --------------------------------------------------------------
# DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/ieum); unset, the embedded PostgreSQL
# under var/pg that `make demo` and the test settings start (config/embedded_postgres.py).
# Reading the settings starts nothing, so commands that need no database never wait for one.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or embedded_postgres.url(),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://...).")
# OLTP queries: PostgreSQL's JIT compiles for longer than the access queries run.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Web requests: a query running longer than WEB_STATEMENT_TIMEOUT_MS is cancelled (a 500 the
# client may retry) instead of holding a worker and its connection. Only processes started
# with config/gunicorn.conf.py (which sets IEUM_WEB_PROCESS=1) get it: Celery workers,
# migrations and management commands run as long as their own time limits allow.
WEB_STATEMENT_TIMEOUT_MS = int(os.environ.get("WEB_STATEMENT_TIMEOUT_MS", "30000"))
if os.environ.get("IEUM_WEB_PROCESS") == "1" and WEB_STATEMENT_TIMEOUT_MS > 0:
    DATABASES["default"]["OPTIONS"]["options"] += (
        f" -c statement_timeout={WEB_STATEMENT_TIMEOUT_MS}"
    )
# DATABASE_REPLICA_URL: a read replica the aggregate reports read from (core/replica.py); the
# tests use the primary in its place (TEST MIRROR). Unset: the reports read the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name a PostgreSQL database.")
DATABASE_ROUTERS = ["core.replica.PrimaryRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Identity -------------------------------------------------------------------------------
AUTH_USER_MODEL = "partners.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# PIPA safeguards: lock after repeated failures, end idle sessions.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
# The 30 minutes count from the last request, not the login: config.middleware.IdleSessionMiddleware
# renews the session at most once per SESSION_REFRESH_SECONDS instead of writing it every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
API_TOKEN_HOURS = int(os.environ.get("API_TOKEN_HOURS", "8"))
# DESIGN.md §9 strong authentication: everyone who handles personal data (a membership, or a
# superuser) signs in with a second factor and is sent to enrol it first. On in production; the
# demo runs with DEBUG on and keeps its logins single-factor unless this is set.
MFA_REQUIRED = env_bool("MFA_REQUIRED", not DEBUG)
# How long the code step of a login waits after the right password (partners/views.py).
MFA_LOGIN_SECONDS = int(os.environ.get("MFA_LOGIN_SECONDS", str(5 * 60)))
# Wrong codes count toward LOGIN_FAILURE_LIMIT in the database (partners/authentication.py),
# shared with passwords; django-otp's own per-device delay would refuse a right code with the
# wrong message, so it is off.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_TOTP_ISSUER = "이음"
# Passkeys (partners/passkeys.py): the relying party is the site's own host and origin unless
# these say otherwise (one RP ID for several hosts, or a proxy that changes the origin).
WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "")
WEBAUTHN_RP_NAME = os.environ.get("WEBAUTHN_RP_NAME", "이음")
WEBAUTHN_ORIGINS = env_list("WEBAUTHN_ORIGINS", "")
# A TOTP secret is the factor itself: the admin never shows it.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Decree 15⑥: a membership whose security training is older than this many days grants no
# access to personal data (0 switches the check off); the home page warns 30 days ahead.
SECURITY_TRAINING_DAYS = int(os.environ.get("SECURITY_TRAINING_DAYS", "365"))
# How long a closed referral's packet is kept when no agreement sets it (escalations, referrals
# between education offices); an agreement's own retention period wins (DESIGN.md §4, §6).
REFERRAL_PACKET_RETENTION_DAYS = int(os.environ.get("REFERRAL_PACKET_RETENTION_DAYS", "365"))
# How long a break-glass opening of a case outside one's grants lasts (DESIGN.md §5, §9).
BREAK_GLASS_HOURS = int(os.environ.get("BREAK_GLASS_HOURS", "4"))


def _work_hours(text: str) -> tuple[datetime.time, datetime.time]:
    try:
        start, end = (datetime.time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as error:
        raise ImproperlyConfigured(
            f"ACCESS_REVIEW_WORK_HOURS: {text!r} is not HH:MM-HH:MM"
        ) from error
    if start >= end:
        raise ImproperlyConfigured("ACCESS_REVIEW_WORK_HOURS must start before it ends.")
    return start, end


# The monthly access-log review (DESIGN.md §9): working hours on Korean business days (access
# outside them is a finding); a person's month is "unusual volume" above FACTOR times both their
# own monthly average over BASELINE_MONTHS and their role's median, from VOLUME_MIN events.
ACCESS_REVIEW_WORK_HOURS = _work_hours(os.environ.get("ACCESS_REVIEW_WORK_HOURS", "08:00-19:00"))
ACCESS_REVIEW_VOLUME_FACTOR = float(os.environ.get("ACCESS_REVIEW_VOLUME_FACTOR", "3"))
ACCESS_REVIEW_VOLUME_MIN = int(os.environ.get("ACCESS_REVIEW_VOLUME_MIN", "100"))
ACCESS_REVIEW_BASELINE_MONTHS = int(os.environ.get("ACCESS_REVIEW_BASELINE_MONTHS", "3"))
# Decree 10 and DESIGN.md §9: a closed case that never had both consents keeps its free text this
# many days after it was opened; the daily retention job then destroys it.
PRECONSENT_RETENTION_DAYS = int(os.environ.get("PRECONSENT_RETENTION_DAYS", "180"))
# A review the officer asks for is built by a job with this time limit (seconds).
ACCESS_REVIEW_TIME_LIMIT = int(os.environ.get("ACCESS_REVIEW_TIME_LIMIT", "900"))
# Exports (DESIGN.md §10): a made file is kept this many hours, then destroyed with a record;
# a list export holds at most EXPORT_MAX_ROWS rows; a job is stopped after EXPORT_TIME_LIMIT s.
EXPORT_TTL_HOURS = int(os.environ.get("EXPORT_TTL_HOURS", "24"))
# The reports count facts refreshed by a job (casework/reports/facts.py): a report read when
# they are older than this asks for a refresh (docs/reports.md).
REPORT_FACTS_MAX_AGE_SECONDS = int(os.environ.get("REPORT_FACTS_MAX_AGE_SECONDS", "120"))
REPORT_FACTS_WORK_MEM = os.environ.get("REPORT_FACTS_WORK_MEM", "256MB")
EXPORT_MAX_ROWS = int(os.environ.get("EXPORT_MAX_ROWS", "20000"))
EXPORT_TIME_LIMIT = int(os.environ.get("EXPORT_TIME_LIMIT", "300"))

# guardian: no anonymous user row; Case and Referral use direct-FK permission models.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("한국어")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True
# Korean puts 오전/오후 before the time ("오전 9:30"); config/formats/ko overrides Django's order.
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static files: our own and the npm packages (KRDS, htmx) installed by the build ----------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
NODE_MODULES = BASE_DIR / "node_modules"
if (NODE_MODULES / "krds-uiux").exists():
    STATICFILES_DIRS.append(("krds", NODE_MODULES / "krds-uiux" / "resources"))
if (NODE_MODULES / "htmx.org").exists():
    STATICFILES_DIRS.append(("htmx", NODE_MODULES / "htmx.org" / "dist"))
if (NODE_MODULES / "chart.js").exists():  # the report dashboards' charts
    STATICFILES_DIRS.append(("chartjs", NODE_MODULES / "chart.js" / "dist"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# --- Celery: absent broker URL means eager execution (the demo) -----------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = TIME_ZONE
# Publishing happens after a request's commit: with the broker down it must fail within about a
# second instead of retrying, and the periodic sweep delivers what was left pending.
CELERY_BROKER_CONNECTION_TIMEOUT = float(os.environ.get("CELERY_BROKER_CONNECTION_TIMEOUT", "1"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 0,  # publishing only; the worker's own reconnects follow broker_connection_*
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    "socket_timeout": 2,  # a broker that accepts but never answers
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Every task has a time limit (docs/operations.md "Limits and timeouts"): these apply to the
# tasks that set none of their own (the sweeps, the digest, e-mail delivery); the jobs and the
# long nightly runs set theirs in casework/tasks.py. The soft limit raises SoftTimeLimitExceeded
# inside the task so it can fail its job cleanly, the hard limit kills the worker child.
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", 10 * 60))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", 11 * 60))
CELERY_BEAT_SCHEDULE = {
    # Early discovery: every school's indicators judged against its rules (docs/discovery.md).
    "evaluate-discovery-rules": {
        "task": "casework.tasks.evaluate_discovery_rules",
        "schedule": crontab(hour=4, minute=10),
    },
    # The reports' facts: what changed, every minute; everything, every night.
    "refresh-report-facts": {
        "task": "casework.tasks.refresh_report_facts",
        "schedule": 60.0,
    },
    "rebuild-report-facts": {
        "task": "casework.tasks.rebuild_report_facts",
        "schedule": crontab(hour=3, minute=20),
    },
    # Export files past EXPORT_TTL_HOURS are destroyed, each with a destruction record.
    "expire-exports": {
        "task": "casework.tasks.expire_exports",
        "schedule": 15 * 60.0,
    },
    "sweep-notifications": {
        "task": "casework.tasks.sweep_notifications",
        "schedule": 5 * 60.0,
    },
    "send-referral-reminders": {
        "task": "casework.tasks.send_referral_reminders",
        "schedule": crontab(hour=8, minute=30),  # CELERY_TIMEZONE: Asia/Seoul
    },
    "send-daily-digest": {
        "task": "casework.tasks.send_daily_digest",
        "schedule": crontab(hour=7, minute=30),
    },
    "purge-referral-packets": {
        "task": "casework.tasks.purge_referral_packets",
        "schedule": crontab(hour=2, minute=15),
    },
    # A consent is valid through its expires_on: what relied on it lapses as the next day begins.
    "lapse-expired-consents": {
        "task": "casework.tasks.lapse_expired_consents",
        "schedule": crontab(hour=0, minute=5),
    },
    # A membership counts through its ended_on: its holder's own case grants go the day after.
    "drop-ended-membership-grants": {
        "task": "casework.tasks.drop_ended_membership_grants",
        "schedule": crontab(hour=0, minute=10),
    },
    # Each month's access-log head goes outside the database, so a cut tail shows the next day.
    "anchor-access-log": {
        "task": "casework.tasks.anchor_access_log",
        "schedule": crontab(hour=23, minute=50),
    },
    # Retention (Decree 10): anonymise what is past its keeping period, one register line each.
    "apply-retention": {
        "task": "casework.tasks.apply_retention",
        "schedule": crontab(hour=2, minute=10),
    },
    # The monthly access-log review: the task builds the previous month's on the first
    # business day of a month and does nothing on other days.
    "build-monthly-access-reviews": {
        "task": "casework.tasks.build_monthly_access_reviews",
        "schedule": crontab(hour=6, minute=30),
    },
    # The access log's monthly tables: made ahead, dropped whole past ACCESS_LOG_YEARS.
    "maintain-access-log-partitions": {
        "task": "casework.tasks.maintain_access_log_partitions",
        "schedule": crontab(hour=1, minute=20),
    },
    # A job whose worker died (killed at its time limit, out of memory) would show "running"
    # forever: past JOB_STALE_AFTER_SECONDS it is failed with a message. A job whose publish was
    # lost (broker away) is published again past JOB_REQUEUE_AFTER_SECONDS.
    "fail-stale-jobs": {
        "task": "casework.tasks.fail_stale_jobs",
        "schedule": 2 * 60.0,
    },
    # A clean dry run keeps its file so that one click saves it; past CHECKED_FILE_KEPT it goes.
    "drop-expired-checked-files": {
        "task": "casework.tasks.drop_expired_checked_files",
        "schedule": 60 * 60.0,
    },
}

# --- Roster imports (casework/imports/) -----------------------------------------------------
# An XLSX is a zip archive: these refuse, before parsing, files that would hold a worker (a
# zip bomb, a cell at row two billion). A real export of 20,000 pupils expands to about 15 MB.
ROSTER_IMPORT_MAX_EXPANDED_BYTES = int(
    os.environ.get("ROSTER_IMPORT_MAX_EXPANDED_BYTES", 100 * 1024 * 1024)
)
ROSTER_IMPORT_MAX_COMPRESSION_RATIO = int(
    os.environ.get("ROSTER_IMPORT_MAX_COMPRESSION_RATIO", 100)
)
# Rows and columns a sheet may use, blank ones included (Excel's grid is 1,048,576 × 16,384).
ROSTER_IMPORT_MAX_SHEET_ROWS = int(os.environ.get("ROSTER_IMPORT_MAX_SHEET_ROWS", 100_000))
ROSTER_IMPORT_MAX_COLUMNS = int(os.environ.get("ROSTER_IMPORT_MAX_COLUMNS", 200))
ROSTER_IMPORT_MAX_CELLS = int(os.environ.get("ROSTER_IMPORT_MAX_CELLS", 2_000_000))
# The longest text a cell may hold (the longest field, a name, takes 100 characters; a longer
# value in a known column is that column's row error, checked after this).
ROSTER_IMPORT_MAX_CELL_CHARS = int(os.environ.get("ROSTER_IMPORT_MAX_CELL_CHARS", 10_000))
# A 20,000-row import takes well under a minute; one still running after this is stopped.
ROSTER_IMPORT_TIME_LIMIT = int(os.environ.get("ROSTER_IMPORT_TIME_LIMIT", 15 * 60))
# Queued or running jobs older than this are failed by the fail-stale-jobs sweep: longer than
# the import's time limit, so it never fails a job that is still at work.
JOB_STALE_AFTER_SECONDS = int(os.environ.get("JOB_STALE_AFTER_SECONDS", 60 * 60))
# A job still queued after this is published again (its publish may have been lost).
JOB_REQUEUE_AFTER_SECONDS = int(os.environ.get("JOB_REQUEUE_AFTER_SECONDS", 2 * 60))

# --- Request limits (docs/api.md "Limits", docs/operations.md "Limits and timeouts") ------
# A form or other non-file body Django reads into memory, and the size above which an uploaded
# file goes to a temporary file instead of memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024))
FILE_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("FILE_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# The largest upload (a roster file is at most 5 MB): a request whose Content-Length says more
# is refused before its body is read (core/uploads.py).
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 6 * 1024 * 1024))
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "core.limits.BoundedUploadHandler",
]
# A JSON request body (core/jsonparse.py): its size, nesting, list lengths and text lengths.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", 1024 * 1024))
API_MAX_JSON_DEPTH = 20
API_MAX_LIST_ITEMS = 500
API_MAX_TEXT_CHARS = 20_000

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": [
        "core.jsonparse.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "partners.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StandardPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `?format=` is the API's own parameter (API.md: `format=pdf|xlsx|json` of subject access,
    # reports and exports), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ieum (이음) API",
    "DESCRIPTION": "학생맞춤통합지원 사례관리 API. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per concept where several models have a field of the same name.
    "ENUM_NAME_OVERRIDES": {
        "DomainEnum": "partners.choices.Domain",
        "OrganizationKindEnum": "partners.choices.OrganizationKind",
        "TriageDecisionEnum": "casework.models.cases.Concern.Triage",
        "DecisionKindEnum": "casework.models.planning.Decision.Kind",
        "MeetingKindEnum": "casework.models.planning.Meeting.Kind",
        "NoteKindEnum": "casework.models.records.Note.Kind",
        "IdentificationSourceEnum": "casework.models.cases.IdentificationSource",
        "ReferralKindEnum": "casework.models.referrals.ReferralKind",
    },
}

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ieum@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))  # a hung SMTP server frees the worker
if os.environ.get("EMAIL_FILE_PATH"):  # with the file-based backend (tests of the worker)
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
# Links in e-mails are built on this address (scheme and host, no trailing path).
IEUM_BASE_URL = os.environ.get("IEUM_BASE_URL", "http://127.0.0.1:8000")
# Notification e-mail (casework.notify): attempts before a row is marked failed; age after
# which the sweep picks up a row still pending; ids per delivery task.
NOTIFICATION_EMAIL_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATION_EMAIL_MAX_ATTEMPTS", "5"))
NOTIFICATION_SWEEP_AFTER_SECONDS = int(os.environ.get("NOTIFICATION_SWEEP_AFTER_SECONDS", "120"))
# A notification e-mail's row is claimed (committed) before the send; a claim older than this
# belongs to a worker that died and is sent again, with the same Message-ID, whose domain is this
# (empty: IEUM_BASE_URL's host). docs/operations.md, "Delivery guarantees".
NOTIFICATION_CLAIM_TIMEOUT_SECONDS = int(
    os.environ.get("NOTIFICATION_CLAIM_TIMEOUT_SECONDS", 15 * 60)
)
EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("EMAIL_MESSAGE_ID_DOMAIN", "")
NOTIFICATION_DELIVERY_BATCH = 100

# --- Security: secure by default; loopback deployments without TLS opt out explicitly --------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Steps `seed_demo` runs after the demo network (dotted paths to callables taking stdout=).
DEMO_SEED_STEPS = ["seed.demo.seed_demo_casework"]

# --- Referrals (DESIGN.md §4) ---------------------------------------------------------------
# Business days a receiver has to respond, by urgency, unless the sender chooses a date.
REFERRAL_RESPONSE_DAYS = {"normal": 5, "high": 3, "urgent": 1}
# After this many business days overdue, reminders also go to the sender and the sender's head.
REFERRAL_ESCALATE_REMINDER_AFTER = 2
