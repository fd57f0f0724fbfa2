from partners.choices import Role

from . import access

SCHOOL_ROLES = set(access.ROSTER_ROLES)
CASE_ROLES = SCHOOL_ROLES | {Role.CASE_MANAGER, Role.CENTRE_HEAD}


def menu(request):
    """Which casework menu entries the signed-in user's current memberships call for."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    roles = set(access.current_memberships(user).values_list("role", flat=True))
    return {
        "menu": {
            "school": bool(roles & SCHOOL_ROLES),
            "coordinator": Role.COORDINATOR in roles,
            "cases": bool(roles & CASE_ROLES),
            "heads": bool(roles & {Role.PRINCIPAL, Role.VICE_PRINCIPAL}),
            "meetings": bool(roles & {Role.COORDINATOR, Role.VICE_PRINCIPAL, Role.PRINCIPAL}),
        }
    }
