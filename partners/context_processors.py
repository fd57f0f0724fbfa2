from .memberships import active_memberships_of
from .models import Membership


def active_memberships(request) -> list[Membership]:
    """The signed-in user's active memberships with their organisations, read once per request
    (the header, the menu, the access log and the access queries all need them)."""
    return active_memberships_of(getattr(request, "user", None))


def current_memberships(request):
    """The signed-in user's active memberships, for the header (organisation and role)."""
    return {"header_memberships": active_memberships(request)}
