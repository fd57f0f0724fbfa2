"""Notifications are written in the business transaction (the outbox); delivery reads them later."""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import translation
from simple_history.utils import bulk_create_with_history

from casework.models import Case, Notification
from casework.models.notifications import MESSAGES, Message
from partners.models import User

from . import delivery

_muted: ContextVar[bool] = ContextVar("notifications_muted", default=False)


@contextmanager
def muted() -> Iterator[None]:
    """Nothing is notified inside this block (the kinds and params are still checked). For
    back-filled history only, such as the demo seed's cases that began months before the demo's
    fortnight: news nobody would still be reading must not fill everyone's notifications."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def notify(
    recipients: Iterable[User],
    *,
    kind: str,
    params: Mapping[str, str | int] | None = None,
    body: str = "",
    case: Case | None = None,
    url: str = "",
    exclude: User | None = None,
) -> list[Notification]:
    """One in-app notification per distinct recipient, never to the actor themself (`exclude`,
    who is also named as the author of the history rows). Once the transaction commits, the
    rows are handed to the e-mail delivery task (casework.notify.delivery); if it rolls back,
    nothing is sent.

    `kind` names a message of casework.models.notifications.MESSAGES and `params` fills it
    (exactly its placeholders: numbers, codes, names the recipient sees anyway), so that each
    reader gets it in their own language. `body` is free text the actor wrote, for a message
    without a body template."""
    message, params = _checked(kind, params, body)
    if _muted.get():
        return []
    # The stored text is the site language's, whoever acts: history and old readers see that.
    with translation.override(settings.LANGUAGE_CODE):
        title = message.render_title(params)[:200]
        text = message.render_body(params, str(body))
    email_status = (
        Notification.EmailStatus.SKIPPED
        if delivery.is_suspended()
        else Notification.EmailStatus.PENDING
    )
    seen, rows = set(), []
    for user in recipients:
        if user is None or user.pk in seen or (exclude is not None and user.pk == exclude.pk):
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user,
                kind=kind,
                params=params,
                title=title,
                body=text,
                case=case,
                url=url,
                email_status=email_status,
            )
        )
    created = bulk_create_with_history(
        rows, Notification, default_user=exclude, default_change_reason=f"알림: {kind}"
    )
    pending = [row.pk for row in created if row.email_status == Notification.EmailStatus.PENDING]
    if pending:
        # One task per batch, published only after commit; a failed publish never reaches the
        # caller (the rows stay pending and the sweep sends them).
        transaction.on_commit(partial(delivery.schedule, pending), robust=True)
    return created


def _checked(kind: str, params, body: str) -> tuple[Message, dict]:
    """The kind's message and the params as stored; a mistake here is a programming error."""
    message = MESSAGES.get(kind)
    if message is None:
        raise ValueError(f"no message for notification kind {kind!r} (MESSAGES)")
    params = dict(params or {})
    wanted = message.fields()
    if set(params) != wanted:
        raise ValueError(f"{kind} takes params {sorted(wanted)}, not {sorted(params)}")
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(f"{kind}: param {name} must be text or a whole number")
    if body and message.body is not None:
        raise ValueError(f"{kind} renders its body from params; it takes no free text")
    return message, params
