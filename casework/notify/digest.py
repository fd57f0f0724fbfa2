"""The daily digest: one e-mail per person with unread notifications from the last day."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework.models import EmailDigest, Notification

from .delivery import language_of

logger = logging.getLogger(__name__)

LISTED = 20  # titles named in one digest; the rest are counted


def send_daily_digest() -> int:
    """E-mail each active person with an address their unread notifications of the last day, at
    most once a day (an EmailDigest row per person and day makes a second run send nothing).
    A send that fails is logged and skipped; returns the number of digests sent."""
    today = timezone.localdate()
    unread = (
        Notification.objects.filter(
            read_at__isnull=True, created_at__gte=timezone.now() - timedelta(days=1)
        )
        .exclude(recipient__email="")
        .filter(recipient__is_active=True)
        .select_related("recipient")
        .order_by("recipient_id", "-created_at")
    )
    by_user: dict = {}
    for row in unread:
        by_user.setdefault(row.recipient, []).append(row)
    sent = 0
    for user, rows in by_user.items():
        try:
            with transaction.atomic():
                digest = EmailDigest(recipient=user, day=today, count=len(rows))
                digest._change_reason = gettext_noop("일일 알림 요약")
                digest.save()
                with translation.override(language_of(user)):
                    subject = _("[이음] 읽지 않은 알림 %(n)s건") % {"n": len(rows)}
                    lines = [f"· {row.display_title}" for row in rows[:LISTED]]
                    if len(rows) > LISTED:
                        lines.append(_("외 %(n)s건") % {"n": len(rows) - LISTED})
                    lines += ["", settings.IEUM_BASE_URL.rstrip("/") + "/casework/notifications/"]
                mail.send_mail(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, [user.email])
        except IntegrityError:
            continue  # already sent today
        except Exception:
            logger.exception("daily digest for %s failed", user.pk)
            continue
        sent += 1
    return sent
