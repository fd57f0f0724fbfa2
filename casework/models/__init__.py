from .alerts import Alert, AlertStatus
from .audit import AccessChainHead, AccessEvent
from .cases import (
    FINISHED_STATUSES,
    Case,
    CaseMember,
    CaseParticipant,
    CaseStatus,
    ClosureReason,
    Concern,
    IdentificationSource,
)
from .notifications import EmailDigest, Job, Notification
from .oversight import AccessReview, BreakGlass, ReviewFinding
from .permissions import (
    CaseGroupObjectPermission,
    CaseUserObjectPermission,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)
from .planning import Assessment, Decision, Intervention, Meeting, ServiceLog, SupportPlan
from .records import Consent, Note
from .referrals import (
    Referral,
    ReferralKind,
    ReferralMessage,
    ReferralStatus,
    Transfer,
    TransferClaim,
)
from .retention import DestructionRecord
from .students import BenefitStatus, EnrolmentStatus, Guardian, Student

__all__ = [
    "FINISHED_STATUSES",
    "AccessChainHead",
    "AccessEvent",
    "AccessReview",
    "Alert",
    "AlertStatus",
    "Assessment",
    "BenefitStatus",
    "BreakGlass",
    "Case",
    "CaseGroupObjectPermission",
    "CaseMember",
    "CaseParticipant",
    "CaseStatus",
    "CaseUserObjectPermission",
    "ClosureReason",
    "Concern",
    "Consent",
    "Decision",
    "DestructionRecord",
    "EmailDigest",
    "EnrolmentStatus",
    "Guardian",
    "IdentificationSource",
    "Intervention",
    "Job",
    "Meeting",
    "Note",
    "Notification",
    "Referral",
    "ReferralGroupObjectPermission",
    "ReferralKind",
    "ReferralMessage",
    "ReferralStatus",
    "ReferralUserObjectPermission",
    "ReviewFinding",
    "ServiceLog",
    "Student",
    "SupportPlan",
    "Transfer",
    "TransferClaim",
]
