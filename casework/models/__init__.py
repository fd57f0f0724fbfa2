from .cases import Case, CaseStatus, RiskLevel
from .permissions import (
    CaseGroupObjectPermission,
    CaseUserObjectPermission,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)
from .referrals import Referral, ReferralKind, ReferralStatus

__all__ = [
    "Case",
    "CaseGroupObjectPermission",
    "CaseStatus",
    "CaseUserObjectPermission",
    "Referral",
    "ReferralGroupObjectPermission",
    "ReferralKind",
    "ReferralStatus",
    "ReferralUserObjectPermission",
    "RiskLevel",
]
