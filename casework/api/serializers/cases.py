"""Students, concerns, cases and their records, plans, meetings, notifications, history and
import and export jobs (API.md)."""

from django.urls import reverse
from rest_framework import serializers

from casework import instruments
from casework.choices import Difficulty, RiskLevel, Urgency
from casework.models import (
    Assessment,
    Case,
    CaseMember,
    Concern,
    Consent,
    Decision,
    Guardian,
    IdentificationSource,
    Intervention,
    Meeting,
    Note,
    Notification,
    ServiceLog,
    Student,
    SupportPlan,
)
from casework.workflows import exports
from core.representation import FastModelSerializer
from partners.choices import Domain
from partners.models import Organization

from .common import OrgRefSerializer, StudentRefSerializer, UserRefSerializer


class GuardianSerializer(FastModelSerializer):
    class Meta:
        model = Guardian
        fields = ["id", "name", "relation", "phone"]
        read_only_fields = ["id"]


class RosterStudentSerializer(FastModelSerializer):
    """What a teacher sees of the roster: name, grade, class and number only."""

    class Meta:
        model = Student
        fields = ["id", "name", "grade", "class_no", "number"]


class StudentSerializer(FastModelSerializer):
    school = OrgRefSerializer(read_only=True)
    guardians = GuardianSerializer(many=True, required=False)
    home_borough = serializers.SlugRelatedField(
        slug_field="region_code",
        queryset=Organization.objects.boroughs(),
        required=False,
        allow_null=True,
    )

    class Meta:
        model = Student
        fields = [
            "id",
            "school",
            "name",
            "birth_date",
            "sex",
            "grade",
            "class_no",
            "number",
            "neis_id",
            "enrolment_status",
            "multicultural",
            "special_education",
            "north_korean_defector",
            "refugee",
            "benefit_status",
            "family_structure",
            "home_borough",
            "guardians",
        ]
        read_only_fields = ["id", "school", "enrolment_status"]


class ConcernSerializer(FastModelSerializer):
    student = StudentRefSerializer(read_only=True)
    raised_by = UserRefSerializer(read_only=True)

    class Meta:
        model = Concern
        fields = [
            "id",
            "student",
            "raised_by",
            "source",
            "difficulties",
            "description",
            "urgency",
            "status",
            "triage",
            "triage_reason",
            "case",
            "created_at",
        ]


class ConcernCreateSerializer(serializers.Serializer):
    student = serializers.UUIDField()
    difficulties = serializers.ListField(child=serializers.ChoiceField(Difficulty.choices))
    description = serializers.CharField(required=False, allow_blank=True, default="")
    urgency = serializers.ChoiceField(Urgency.choices, required=False, default=Urgency.NORMAL)


class TriageSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(Concern.Triage.choices)
    case = serializers.UUIDField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class TeamMemberSerializer(FastModelSerializer):
    user = UserRefSerializer(read_only=True)

    class Meta:
        model = CaseMember
        fields = ["user", "role", "added_at"]


class CaseSerializer(FastModelSerializer):
    student = StudentRefSerializer(read_only=True)
    owner = OrgRefSerializer(read_only=True)
    lead = OrgRefSerializer(read_only=True)
    coordinator = UserRefSerializer(read_only=True)
    team = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "student",
            "owner",
            "lead",
            "status",
            "risk_level",
            "difficulties",
            "domains",
            "summary",
            "source",
            "coordinator",
            "team",
            "review_due_on",
            "closure_reason",
            "opened_on",
            "closed_on",
            "version",
            "permissions",
        ]

    def get_team(self, case) -> list[dict]:
        members = getattr(case, "active_members", None)
        if members is None:
            members = case.members.filter(removed_at__isnull=True).select_related("user")
        # One nested serializer for every row of a list (DRF builds fields per instance).
        team = self.__dict__.setdefault("_team_serializer", TeamMemberSerializer())
        return [team.to_representation(member) for member in members]

    def get_permissions(self, case) -> list[str]:
        checker = self.context.get("checker")
        return sorted(checker.perms(case)) if checker else []


class CaseCreateSerializer(serializers.Serializer):
    student = serializers.UUIDField()
    difficulties = serializers.ListField(child=serializers.ChoiceField(Difficulty.choices))
    domains = serializers.ListField(
        child=serializers.ChoiceField(Domain.choices), required=False, default=list
    )
    risk_level = serializers.ChoiceField(RiskLevel.choices, required=False, default="watch")
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    source = serializers.ChoiceField(
        IdentificationSource.choices, required=False, default=IdentificationSource.TEACHER
    )


class CaseUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    risk_level = serializers.ChoiceField(RiskLevel.choices, required=False)
    difficulties = serializers.ListField(
        child=serializers.ChoiceField(Difficulty.choices), required=False
    )
    domains = serializers.ListField(child=serializers.ChoiceField(Domain.choices), required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    review_due_on = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class TransitionSerializer(serializers.Serializer):
    to = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    closure_reason = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, allow_null=True)


class TeamAddSerializer(serializers.Serializer):
    user = serializers.UUIDField()
    role = serializers.CharField()


class NoteSerializer(FastModelSerializer):
    author = UserRefSerializer(read_only=True)
    # A plain id, looked up by the view among the notes the caller may read: a note that does
    # not exist and one the caller may not read answer the same (DESIGN.md §3 Note).
    amends = serializers.UUIDField(source="amends_id", required=False, allow_null=True)

    class Meta:
        model = Note
        fields = [
            "id",
            "kind",
            "body",
            "occurred_at",
            "confidentiality",
            "amends",
            "author",
            "created_at",
        ]
        read_only_fields = ["id", "author", "created_at"]
        extra_kwargs = {"occurred_at": {"required": False}}


class AssessmentSerializer(FastModelSerializer):
    assessed_by = UserRefSerializer(read_only=True)
    level_label = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "instrument",
            "answers",
            "score",
            "level",
            "level_label",
            "assessed_by",
            "assessed_at",
        ]
        read_only_fields = ["id", "score", "level", "assessed_by", "assessed_at"]

    def get_level_label(self, assessment) -> str:
        return instruments.level_label(assessment.instrument, assessment.level)


class ConsentSerializer(FastModelSerializer):
    valid = serializers.SerializerMethodField()
    # Lists of codes and names (JSON columns that would take any value): a number or a boolean
    # is a 400 here; which codes are known, the workflow says.
    purposes = serializers.ListField(child=serializers.CharField(max_length=40))
    recipients = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list
    )

    class Meta:
        model = Consent
        fields = [
            "id",
            "subject",
            "guardian_name",
            "relation",
            "purposes",
            "recipients",
            "method",
            "given_on",
            "expires_on",
            "withdrawn_on",
            "valid",
        ]
        read_only_fields = ["id", "withdrawn_on", "valid"]
        extra_kwargs = {
            "purposes": {"required": True},
            "guardian_name": {"required": False},
            "relation": {"required": False},
            "recipients": {"required": False},
            "expires_on": {"required": False},
        }

    def get_valid(self, consent) -> bool:
        return consent.is_valid()


class ServiceLogSerializer(FastModelSerializer):
    class Meta:
        model = ServiceLog
        fields = ["id", "occurred_on", "duration_minutes", "attended", "note", "created_at"]
        read_only_fields = ["id", "created_at"]


class InterventionSerializer(FastModelSerializer):
    logs = ServiceLogSerializer(many=True, read_only=True)

    class Meta:
        model = Intervention
        fields = [
            "id",
            "domain",
            "support_type",
            "description",
            "provider_organization",
            "service",
            "responsible",
            "frequency",
            "starts_on",
            "ends_on",
            "status",
            "referral",
            "logs",
        ]
        read_only_fields = ["id", "referral", "logs"]


class PlanSerializer(FastModelSerializer):
    interventions = InterventionSerializer(many=True, read_only=True)
    approved_by = UserRefSerializer(read_only=True)

    class Meta:
        model = SupportPlan
        fields = [
            "id",
            "case",
            "sequence",
            "goals",
            "starts_on",
            "ends_on",
            "review_on",
            "status",
            "submitted_at",
            "approved_by",
            "approved_at",
            "version",
            "interventions",
        ]
        read_only_fields = [
            "id",
            "case",
            "sequence",
            "status",
            "submitted_at",
            "approved_by",
            "approved_at",
            "version",
            "interventions",
        ]
        extra_kwargs = {"goals": {"required": True}, "ends_on": {"required": False}}


class PlanUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    goals = serializers.ListField(child=serializers.CharField(), required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False, allow_null=True)
    review_on = serializers.DateField(required=False)


class DecisionSerializer(FastModelSerializer):
    class Meta:
        model = Decision
        fields = ["id", "case", "decision", "reasons", "decided_at"]


class MeetingSerializer(FastModelSerializer):
    decisions = serializers.SerializerMethodField()
    attendees = UserRefSerializer(many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "organization",
            "kind",
            "held_on",
            "attendees",
            "guests",
            "minutes",
            "decisions",
            "created_at",
        ]

    def get_decisions(self, meeting) -> list[dict]:
        visible = self.context.get("visible_case_ids", set())
        rows = [d for d in meeting.decisions.all() if d.case_id in visible]
        return DecisionSerializer(rows, many=True).data


class DecisionInputSerializer(serializers.Serializer):
    case = serializers.UUIDField()
    decision = serializers.ChoiceField(Decision.Kind.choices)
    reasons = serializers.CharField()
    closure_reason = serializers.CharField(required=False, allow_blank=True, default="")


class MeetingCreateSerializer(serializers.Serializer):
    organization = serializers.UUIDField()
    kind = serializers.ChoiceField(Meeting.Kind.choices)
    held_on = serializers.DateField()
    attendees = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)
    guests = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    minutes = serializers.CharField(required=False, allow_blank=True, default="")
    decisions = DecisionInputSerializer(many=True, required=False, default=list)


class NotificationSerializer(FastModelSerializer):
    # In the request's language (Accept-Language), whoever wrote the notification.
    title = serializers.CharField(source="display_title", read_only=True)
    body = serializers.CharField(source="display_body", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "case", "created_at", "read_at"]


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField()
    new = serializers.JSONField()


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    source = serializers.CharField()
    object_id = serializers.CharField()
    action = serializers.CharField()
    user_name = serializers.CharField()
    reason = serializers.CharField()
    changes = HistoryChangeSerializer(many=True)


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    summary = serializers.CharField()
    user_name = serializers.CharField()
    detail = serializers.JSONField()


class JobSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    processed = serializers.IntegerField()
    total = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    file_name = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField())
    result = serializers.DictField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    # An export's: its stated reason, when its file goes, and where to fetch it while it lasts.
    reason = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    download = serializers.SerializerMethodField()

    def get_download(self, job) -> str | None:
        if not exports.is_downloadable(job):
            return None
        path = reverse("api-job-download", kwargs={"pk": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    school = serializers.UUIDField(required=False)
