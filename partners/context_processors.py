from .models import Membership


def current_memberships(request):
    """The signed-in user's active memberships, for the header (organisation and role)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"header_memberships": []}
    memberships = list(
        Membership.objects.filter(user=user, active=True).select_related("organization")
    )
    return {"header_memberships": memberships}
