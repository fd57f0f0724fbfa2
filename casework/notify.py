"""Notifications are written in the business transaction (the outbox); delivery reads them later."""

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from partners.models import Membership, Organization, User

from . import delivery
from .models import Case, Notification


def members_with_roles(organization: Organization, roles: Iterable[str]) -> list[User]:
    """People holding one of `roles` at `organization` today (current approval)."""
    return [
        m.user
        for m in Membership.objects.current()
        .filter(organization=organization, role__in=list(roles))
        .select_related("user")
        .order_by("user__username")
    ]


def notify(
    recipients: Iterable[User],
    *,
    kind: str,
    title: str,
    body: str = "",
    case: Case | None = None,
    url: str = "",
    exclude: User | None = None,
) -> list[Notification]:
    """One in-app notification per distinct recipient, never to the actor themself (`exclude`,
    who is also named as the author of the history rows). Once the transaction commits, the
    rows are handed to the e-mail delivery task (casework.delivery); if it rolls back, nothing
    is sent."""
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
                title=str(title)[:200],
                body=str(body),
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
