import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords
from partners.models import Organization, Service

from ..choices import Domain, SupportType
from .cases import Case


class Assessment(models.Model):
    """A needs checklist filled in for a case. Instruments are data files (casework/data/)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessments")
    instrument = models.CharField(_("평가 도구"), max_length=60)
    answers = models.JSONField(_("응답"), default=dict)
    score = models.PositiveIntegerField(_("점수"))
    level = models.CharField(_("수준"), max_length=20)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("평가")
        verbose_name_plural = _("평가")
        ordering = ["-assessed_at"]

    def __str__(self):
        return f"{self.instrument} {self.score}"


class Meeting(models.Model):
    class Kind(models.TextChoices):
        SCHOOL_TEAM = "school_team", _("학교 내 논의")
        CASE_REVIEW = "case_review", _("사례점검회의")
        INTEGRATED_CASE = "integrated_case", _("통합사례회의")
        LOCAL_COMMITTEE = "local_committee", _("지역위원회")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="meetings"
    )
    kind = models.CharField(_("회의 종류"), max_length=20, choices=Kind.choices)
    held_on = models.DateField(_("회의일"))
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("참석자"), related_name="meetings", blank=True
    )
    guests = models.JSONField(_("외부 참석자"), default=list, blank=True)
    minutes = models.TextField(_("회의록"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(m2m_fields=[attendees])

    class Meta:
        verbose_name = _("회의")
        verbose_name_plural = _("회의")
        ordering = ["-held_on"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.held_on}"


class Decision(models.Model):
    class Kind(models.TextChoices):
        SELECT = "select", _("선정")
        NOT_SELECT = "not_select", _("미선정")
        ESCALATE = "escalate", _("교육지원청 요청")
        APPROVE_PLAN = "approve_plan", _("계획 승인")
        CLOSE = "close", _("종결")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(_("결정"), max_length=20, choices=Kind.choices)
    reasons = models.TextField(_("사유"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("결정")
        verbose_name_plural = _("결정")
        ordering = ["-decided_at"]

    def __str__(self):
        return f"{self.case}: {self.get_decision_display()}"


class SupportPlan(models.Model):
    """통합지원 제공 계획 (Act Art. 12). Each case may have many; one is current."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("작성 중")
        SUBMITTED = "submitted", _("승인 요청")
        APPROVED = "approved", _("승인")
        SUPERSEDED = "superseded", _("대체됨")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="plans")
    sequence = models.PositiveSmallIntegerField(_("차수"), default=1)
    goals = models.JSONField(_("목표"), default=list)
    starts_on = models.DateField(_("시작일"))
    ends_on = models.DateField(_("종료일"), null=True, blank=True)
    review_on = models.DateField(_("점검일"))
    status = models.CharField(
        _("상태"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("지원 계획")
        verbose_name_plural = _("지원 계획")
        ordering = ["-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="plan_unique_sequence"),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="approved"),
                name="plan_one_approved_per_case",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="plan_period",
            ),
        ]

    def __str__(self):
        return f"{self.case} #{self.sequence}"


class Intervention(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("계획")
        ONGOING = "ongoing", _("진행 중")
        COMPLETED = "completed", _("완료")
        STOPPED = "stopped", _("중단")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(SupportPlan, on_delete=models.PROTECT, related_name="interventions")
    domain = models.CharField(_("지원 영역"), max_length=20, choices=Domain.choices)
    support_type = models.CharField(_("지원 유형"), max_length=40, choices=SupportType.choices)
    description = models.TextField(_("내용"), blank=True)
    provider_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    frequency = models.CharField(_("빈도"), max_length=100, blank=True)
    starts_on = models.DateField(_("시작일"), null=True, blank=True)
    ends_on = models.DateField(_("종료일"), null=True, blank=True)
    status = models.CharField(
        _("상태"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    referral = models.ForeignKey(
        "Referral", on_delete=models.PROTECT, null=True, blank=True, related_name="interventions"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("지원 활동")
        verbose_name_plural = _("지원 활동")

    def __str__(self):
        return f"{self.get_domain_display()} · {self.get_support_type_display()}"

    @property
    def provider_label(self) -> str:
        if self.service_id:
            return str(self.service)
        if self.provider_organization_id:
            return str(self.provider_organization)
        return str(_("교내"))


class ServiceLog(models.Model):
    """A delivered session: the progress monitoring of Act Art. 12."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    intervention = models.ForeignKey(Intervention, on_delete=models.PROTECT, related_name="logs")
    occurred_on = models.DateField(_("일자"))
    duration_minutes = models.PositiveSmallIntegerField(_("시간(분)"), default=0)
    attended = models.BooleanField(_("참석"), default=True)
    note = models.CharField(_("메모"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("지원 기록")
        verbose_name_plural = _("지원 기록")
        ordering = ["-occurred_on"]

    def __str__(self):
        return f"{self.intervention} {self.occurred_on}"
