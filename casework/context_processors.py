from partners.choices import Role
from partners.context_processors import active_memberships

from . import access

SCHOOL_ROLES = set(access.ROSTER_ROLES)
CASE_ROLES = SCHOOL_ROLES | {Role.CASE_MANAGER, Role.CENTRE_HEAD}
REFERRAL_ROLES = {
    Role.COORDINATOR,
    Role.PRINCIPAL,
    Role.CASE_MANAGER,
    Role.CENTRE_HEAD,
    Role.PARTNER_WORKER,
    Role.PARTNER_LEAD,
}


def menu(request):
    """Which casework menu entries the signed-in user's current memberships call for."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    roles = {m.role for m in active_memberships(request) if m.is_current()}
    return {
        "menu": {
            "school": bool(roles & SCHOOL_ROLES),
            "coordinator": Role.COORDINATOR in roles,
            "cases": bool(roles & CASE_ROLES),
            "heads": bool(roles & {Role.PRINCIPAL, Role.VICE_PRINCIPAL}),
            "meetings": bool(roles & {Role.COORDINATOR, Role.VICE_PRINCIPAL, Role.PRINCIPAL}),
            "referrals": bool(roles & REFERRAL_ROLES),
            "district": bool(roles & {Role.CENTRE_HEAD, Role.CASE_MANAGER}),
        }
    }
