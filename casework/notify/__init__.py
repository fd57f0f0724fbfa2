"""Notifications: written in the business transaction (the outbox, outbox.py), e-mailed once it
commits (delivery.py), and summed up once a day for what is still unread (digest.py)."""

from .delivery import deliver, is_suspended, language_of, suspended, sweep
from .digest import send_daily_digest
from .outbox import muted, notify

__all__ = [
    "deliver",
    "is_suspended",
    "language_of",
    "muted",
    "notify",
    "send_daily_digest",
    "suspended",
    "sweep",
]
