from .models import Membership


def active_memberships(request) -> list[Membership]:
    """The signed-in user's active memberships with their organisations, read once per request
    (the header, the menu and the access log all need them)."""
    cached = getattr(request, "_ieum_memberships", None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = (
            list(Membership.objects.filter(user=user, active=True).select_related("organization"))
            if user is not None and user.is_authenticated
            else []
        )
        request._ieum_memberships = cached
    return cached


def current_memberships(request):
    """The signed-in user's active memberships, for the header (organisation and role)."""
    return {"header_memberships": active_memberships(request)}
