"""Referrals, transfers and transfer claims (DESIGN.md §4). The sending side gets the whole
referral; the receiving side the packet taken at send."""

from rest_framework import serializers

from casework.choices import LegalBasis, Urgency
from casework.models import Referral, ReferralKind, ReferralMessage, Transfer, TransferClaim
from casework.workflows import transfers
from core.representation import FastModelSerializer
from partners.choices import Domain

from .common import (
    CaseRefSerializer,
    OrgRefSerializer,
    ServiceRefSerializer,
    UserRefSerializer,
    VersionSerializer,
)


class ReferralMessageSerializer(FastModelSerializer):
    author = UserRefSerializer(read_only=True)
    organization = OrgRefSerializer(read_only=True)

    class Meta:
        model = ReferralMessage
        fields = ["id", "author", "organization", "body", "created_at"]
        read_only_fields = ["id", "author", "organization", "created_at"]


RECEIVER_FIELDS = [
    "id",
    "number",
    "kind",
    "status",
    "side",
    "from_organization",
    "to_organization",
    "service",
    "urgency",
    "legal_basis",
    "justification",
    "privacy_review",
    "shared_fields",
    "packet",
    "respond_by",
    "overdue",
    "assignee",
    "decision_reasons",
    "decline_reason",
    "cancel_reason",
    "outcome",
    "sent_at",
    "received_at",
    "accepted_at",
    "started_at",
    "closed_at",
    "packet_expires_on",
    "version",
]


SENDER_ONLY_FIELDS = [
    "case",
    "reason",
    "requested_domains",
    "requested_support",
    "notes_excerpt",
    "consent",
    "created_by",
]


class ReferralSerializer(FastModelSerializer):
    """The sending side's view: everything, including the live case link."""

    from_organization = OrgRefSerializer(read_only=True)
    to_organization = OrgRefSerializer(read_only=True)
    service = ServiceRefSerializer(read_only=True)
    assignee = UserRefSerializer(read_only=True)
    created_by = UserRefSerializer(read_only=True)
    case = CaseRefSerializer(read_only=True)
    overdue = serializers.SerializerMethodField()
    side = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = RECEIVER_FIELDS + SENDER_ONLY_FIELDS

    def get_overdue(self, referral) -> bool:
        return referral.is_overdue()

    def get_side(self, referral) -> str:
        return "sender"


class ReceivedReferralSerializer(ReferralSerializer):
    """The receiving side's view of a referral whose case it may not see: the packet only."""

    class Meta:
        model = Referral
        fields = RECEIVER_FIELDS

    def get_side(self, referral) -> str:
        return "receiver"


class ReferralCreateSerializer(serializers.Serializer):
    case = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=ReferralKind.choices)
    to_organization = serializers.UUIDField()
    service = serializers.UUIDField(required=False, allow_null=True)
    reason = serializers.CharField()
    requested_domains = serializers.ListField(
        child=serializers.ChoiceField(choices=Domain.choices), required=False, default=list
    )
    requested_support = serializers.CharField(required=False, allow_blank=True, default="")
    shared_fields = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True, default=None
    )
    notes_excerpt = serializers.CharField(required=False, allow_blank=True, default="")
    legal_basis = serializers.ChoiceField(
        choices=LegalBasis.choices, required=False, default=LegalBasis.CONSENT
    )
    consent = serializers.UUIDField(required=False, allow_null=True)
    justification = serializers.CharField(required=False, allow_blank=True, default="")
    urgency = serializers.ChoiceField(
        choices=Urgency.choices, required=False, default=Urgency.NORMAL
    )
    respond_by = serializers.DateField(required=False, allow_null=True)


class ReferralAcceptSerializer(VersionSerializer):
    reasons = serializers.CharField(required=False, allow_blank=True, default="")


class ReferralReasonSerializer(VersionSerializer):
    reason = serializers.CharField()


class ReferralOutcomeSerializer(VersionSerializer):
    outcome = serializers.CharField()


class ReferralAssignSerializer(serializers.Serializer):
    assignee = serializers.UUIDField()


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField()


class TransferSerializer(FastModelSerializer):
    case = CaseRefSerializer(read_only=True)
    student = serializers.SerializerMethodField()
    from_school = OrgRefSerializer(read_only=True)
    to_school = OrgRefSerializer(read_only=True)
    requested_by = UserRefSerializer(read_only=True)
    decided_by = UserRefSerializer(read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "case",
            "student",
            "from_school",
            "to_school",
            "status",
            "reason",
            "response_reason",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
        ]

    def get_student(self, transfer) -> dict:
        student = transfer.case.student
        return {"name": student.name, "grade": student.grade, "birth_date": student.birth_date}


class TransferCreateSerializer(serializers.Serializer):
    case = serializers.UUIDField()
    to_school = serializers.UUIDField()
    reason = serializers.CharField()


class ClaimedStudentSerializer(serializers.Serializer):
    neis_id = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=100)
    birth_date = serializers.DateField()


class TransferClaimCreateSerializer(serializers.Serializer):
    claim = ClaimedStudentSerializer()
    reason = serializers.CharField()


class TransferClaimSerializer(serializers.ModelSerializer):
    """The claimant's view: what they typed and `status` pending, confirmed or unconfirmed —
    never the case, the old school or its answer, so that the claim tells nothing."""

    to_school = OrgRefSerializer(read_only=True)
    name = serializers.CharField(source="student_name")
    status = serializers.SerializerMethodField()
    side = serializers.SerializerMethodField()
    case = serializers.SerializerMethodField()

    class Meta:
        model = TransferClaim
        fields = ["id", "side", "to_school", "neis_id", "name", "birth_date", "reason"]
        fields += ["status", "claimed_at", "case"]

    def get_status(self, claim) -> str:
        return transfers.claimant_status(claim)

    def get_side(self, claim) -> str:
        return "claimant"

    def get_case(self, claim) -> dict | None:
        # Once confirmed, the case is the claimant's school's own.
        if claim.status == TransferClaim.Status.CONFIRMED and claim.case_id:
            return CaseRefSerializer(claim.case).data
        return None


class ReceivedClaimSerializer(serializers.ModelSerializer):
    """The old school's view of a claim on one of its cases."""

    to_school = OrgRefSerializer(read_only=True)
    case = CaseRefSerializer(read_only=True)
    claimed_by = UserRefSerializer(read_only=True)
    decided_by = UserRefSerializer(read_only=True)
    name = serializers.CharField(source="student_name")
    side = serializers.SerializerMethodField()

    class Meta:
        model = TransferClaim
        fields = ["id", "side", "to_school", "neis_id", "name", "birth_date", "reason", "case"]
        fields += ["status", "response_reason", "claimed_by", "claimed_at", "decided_by"]
        fields += ["decided_at"]

    def get_side(self, claim) -> str:
        return "old_school"
