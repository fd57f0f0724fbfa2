"""Liveness and readiness for load balancers: the database and, when configured, the broker."""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("health: database check failed")
        return "error"
    return "ok"


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not_configured"
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        logger.exception("health: broker check failed")
        return "error"
    return "ok"


@never_cache
@require_GET
def health(request):
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(v in ("ok", "not_configured") for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )
