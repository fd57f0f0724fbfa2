"""Role groups: each (organisation, role) pair is one Django group, kept in sync with memberships.

`user.groups` mirrors the user's *active* memberships so Django admin and guardian see a coherent
picture; it cannot know when a data-handling approval expires, which is why casework/access.py
decides access from current memberships, never from `user.groups`.
"""

from django.contrib.auth.models import Group
from django.db import transaction

from .models import Membership, Organization, RoleGroup, User


def role_group(organization: Organization, role: str) -> Group:
    """The group standing for `role` at `organization`, created on first use."""
    existing = (
        RoleGroup.objects.select_related("group")
        .filter(organization=organization, role=role)
        .first()
    )
    if existing:
        return existing.group
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=RoleGroup.group_name(organization, role))
        RoleGroup.objects.get_or_create(
            organization=organization, role=role, defaults={"group": group}
        )
    return group


def sync_user_groups(user: User) -> None:
    """Make `user.groups` equal to the role groups of the user's active memberships."""
    wanted = set(
        Membership.objects.filter(user=user, active=True).values_list("group_id", flat=True)
    )
    role_groups = set(user.groups.filter(role__isnull=False).values_list("id", flat=True))
    stale = role_groups - wanted
    missing = wanted - role_groups
    if stale:
        user.groups.remove(*stale)
    if missing:
        user.groups.add(*missing)
