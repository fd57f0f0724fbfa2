import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords
from partners.models import Organization

from ..choices import Difficulty, RiskLevel, TeamRole, Urgency  # noqa: F401
from .students import Student


class CaseStatus(models.TextChoices):
    IDENTIFIED = "identified", _("발굴")
    REVIEWING = "reviewing", _("검토 중")
    SELECTED = "selected", _("선정")
    NOT_SELECTED = "not_selected", _("미선정")
    ACTIVE = "active", _("지원 중")
    MONITORING = "monitoring", _("모니터링")
    CLOSED = "closed", _("종결")


# A student has at most one case in these states (DESIGN.md §3). A not-selected case is a finished
# decision, like a closed one: a later concern may open a new case.
FINISHED_STATUSES = (CaseStatus.CLOSED, CaseStatus.NOT_SELECTED)


class ClosureReason(models.TextChoices):
    GOALS_MET = "goals_met", _("목표 달성")
    TRANSFERRED_OUT = "transferred_out", _("전출")
    GRADUATED = "graduated", _("졸업")
    LEFT_SCHOOL = "left_school", _("학업 중단")
    REFUSED = "refused", _("지원 거부")
    NO_LONGER_NEEDED = "no_longer_needed", _("지원 불필요")
    OTHER = "other", _("기타")


class IdentificationSource(models.TextChoices):
    TEACHER = "teacher", _("교사")
    GUARDIAN = "guardian", _("보호자")
    STUDENT = "student", _("학생 본인")
    EXTERNAL = "external", _("외부 기관")
    SCREENING = "screening", _("선별 검사")


class Concern(models.Model):
    """지원 요청 (Act Art. 10②): any school staff member may ask that a student be considered."""

    class Status(models.TextChoices):
        OPEN = "open", _("접수")
        TRIAGED = "triaged", _("검토 완료")

    class Triage(models.TextChoices):
        OPEN_CASE = "open_case", _("사례 개설")
        ATTACH = "attach", _("기존 사례에 연결")
        NO_ACTION = "no_action", _("조치 없음")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        Student, verbose_name=_("학생"), on_delete=models.PROTECT, related_name="concerns"
    )
    school = models.ForeignKey(
        Organization, verbose_name=_("학교"), on_delete=models.PROTECT, related_name="concerns"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("요청자"),
        on_delete=models.PROTECT,
        related_name="concerns_raised",
    )
    source = models.CharField(
        _("요청 경로"),
        max_length=20,
        choices=IdentificationSource.choices,
        default=IdentificationSource.TEACHER,
    )
    difficulties = models.JSONField(_("어려움 유형"), default=list)
    description = models.TextField(_("내용"), blank=True)
    urgency = models.CharField(
        _("긴급도"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.OPEN)
    triage = models.CharField(_("검토 결과"), max_length=20, choices=Triage.choices, blank=True)
    triage_reason = models.TextField(_("검토 사유"), blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="concerns_triaged",
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    case = models.ForeignKey(
        "Case", on_delete=models.PROTECT, null=True, blank=True, related_name="concerns"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("지원 요청")
        verbose_name_plural = _("지원 요청")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["school", "status", "-created_at"]),
            models.Index(fields=["raised_by", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.student} ({self.get_status_display()})"


class Case(models.Model):
    """A student's support case. Access to a case is granted only through casework/access/."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(_("사례 번호"), max_length=40, unique=True)
    student = models.ForeignKey(
        Student, verbose_name=_("학생"), on_delete=models.PROTECT, related_name="cases"
    )
    owner = models.ForeignKey(
        Organization,
        verbose_name=_("담당 학교"),
        on_delete=models.PROTECT,
        related_name="owned_cases",
    )
    lead = models.ForeignKey(
        Organization,
        verbose_name=_("주관 기관"),
        on_delete=models.PROTECT,
        related_name="led_cases",
    )
    status = models.CharField(
        _("상태"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.IDENTIFIED
    )
    risk_level = models.CharField(
        _("위기 수준"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.WATCH
    )
    difficulties = models.JSONField(_("어려움 유형"), default=list, blank=True)
    domains = models.JSONField(_("지원 영역"), default=list, blank=True)
    summary = models.TextField(_("사례 요약"), blank=True)
    source = models.CharField(
        _("발굴 경로"),
        max_length=20,
        choices=IdentificationSource.choices,
        default=IdentificationSource.TEACHER,
    )
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("담당자"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coordinated_cases",
    )
    closure_reason = models.CharField(
        _("종결 사유"), max_length=20, choices=ClosureReason.choices, blank=True
    )
    opened_on = models.DateField(_("개설일"), auto_now_add=True)
    closed_on = models.DateField(_("종결일"), null=True, blank=True)
    review_due_on = models.DateField(_("점검 예정일"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # History is read by case (`id`) and by date, never by these: every change of a case writes
    # a row, so its history table keeps no index for them.
    history = HistoricalRecords(no_db_index=["number", "student", "owner", "lead", "coordinator"])

    class Meta:
        verbose_name = _("사례")
        verbose_name_plural = _("사례")
        ordering = ["-created_at"]
        # DESIGN.md §5: view_case and change_case come from Django's defaults.
        default_permissions = ("view", "change")
        permissions = [
            ("manage_case", _("사례 운영(상태 변경, 팀, 의뢰)")),
            ("view_restricted_notes", _("비공개 기록 열람")),
            ("approve_plan", _("지원 계획 승인")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=~Q(status__in=FINISHED_STATUSES),
                name="case_one_open_case_per_student",
            ),
            models.CheckConstraint(
                condition=~Q(status=CaseStatus.CLOSED) | ~Q(closure_reason=""),
                name="case_closed_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["lead", "status"]),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status not in FINISHED_STATUSES


class CaseMember(models.Model):
    """A person on the case team, with their team role."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_memberships"
    )
    role = models.CharField(_("팀 역할"), max_length=20, choices=TeamRole.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("사례 팀원")
        verbose_name_plural = _("사례 팀원")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=Q(removed_at__isnull=True),
                name="casemember_unique_active",
            )
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()})"


class CaseParticipant(models.Model):
    """An organisation taking part in a case: its owner school, its lead, supporting partners."""

    class Role(models.TextChoices):
        OWNER = "owner", _("소속 학교")
        LEAD = "lead", _("주관 기관")
        SUPPORT = "support", _("지원 기관")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="case_participations"
    )
    role = models.CharField(_("참여 역할"), max_length=10, choices=Role.choices)
    since = models.DateTimeField(auto_now_add=True)
    until = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("참여 기관")
        verbose_name_plural = _("참여 기관")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "organization", "role"],
                condition=Q(until__isnull=True),
                name="caseparticipant_unique_current",
            )
        ]

    def __str__(self):
        return f"{self.organization} ({self.get_role_display()})"
