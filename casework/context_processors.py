from partners.choices import Role

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
    roles = set(access.current_memberships(user).values_list("role", flat=True))
    overdue = 0
    if roles & REFERRAL_ROLES:
        from casework import deadlines
        from casework.models.referrals import AWAITING_RESPONSE

        overdue = (
            access.received_referrals(user)
            .filter(status__in=AWAITING_RESPONSE, respond_by__lt=deadlines.today())
            .count()
        )
    return {
        "menu": {
            "overdue_referrals": overdue,
            "school": bool(roles & SCHOOL_ROLES),
            "coordinator": Role.COORDINATOR in roles,
            "cases": bool(roles & CASE_ROLES),
            "heads": bool(roles & {Role.PRINCIPAL, Role.VICE_PRINCIPAL}),
            "meetings": bool(roles & {Role.COORDINATOR, Role.VICE_PRINCIPAL, Role.PRINCIPAL}),
            "referrals": bool(roles & REFERRAL_ROLES),
            "district": bool(roles & {Role.CENTRE_HEAD, Role.CASE_MANAGER}),
        }
    }
