from casework import access


def menu(request):
    """Which casework menu entries the signed-in user's current memberships call for."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {"menu": access.menu(user)}
