"""Role groups: each (organisation, role) pair is one Django group, kept in sync with memberships.

`user.groups` mirrors the user's *active* memberships so Django admin and guardian see a coherent
picture; it cannot know when a data-handling approval expires, which is why casework/access/
decides access from current memberships, never from `user.groups`. The group of a role at an
organisation is `models.role_group`, which a membership's save sets.
"""

from .models import Membership, User


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
