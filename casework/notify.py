"""Notifications are written in the business transaction (the outbox); delivery reads them later."""

from collections.abc import Iterable

from simple_history.utils import bulk_create_with_history

from partners.models import Membership, Organization, User

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
    who is also named as the author of the history rows)."""
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
            )
        )
    return bulk_create_with_history(
        rows, Notification, default_user=exclude, default_change_reason=f"알림: {kind}"
    )
