"""Early discovery (조기 발견, DESIGN.md §11, docs/discovery.md): the indicators a school already
has, imported per student and period; the thresholds that turn them into flags; the flags."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords
from partners.models import Organization

from .cases import Case, Concern
from .notifications import Job
from .students import Student


class IndicatorKind(models.TextChoices):
    """What an indicator file holds; also the domain a flag's reason belongs to."""

    ATTENDANCE = "attendance", _("출결")
    BASIC_LEARNING = "basic_learning", _("기초학력")
    SCREENING = "screening", _("정서·행동특성검사")


class Achievement(models.TextChoices):
    REACHED = "reached", _("도달")
    NOT_REACHED = "not_reached", _("미도달")


class ScreeningLevel(models.TextChoices):
    """학생정서·행동특성검사 levels, from lowest to highest (`SCREENING_RANK`)."""

    NORMAL = "normal", _("정상")
    INTEREST = "interest", _("관심군")
    PRIORITY = "priority", _("우선관리군")
    SUICIDE_RISK = "suicide_risk", _("자살위험")


SCREENING_RANK = {level: rank for rank, level in enumerate(ScreeningLevel.values)}


class FlagStatus(models.TextChoices):
    OPEN = "open", _("확인 필요")
    COVERED = "covered", _("진행 중인 지원에 연결")
    RAISED = "raised", _("지원 요청함")
    DISMISSED = "dismissed", _("해당 없음")


# A student has at most one flag in these states; a raised flag is done (its concern goes on).
CURRENT_FLAG_STATUSES = (FlagStatus.OPEN, FlagStatus.COVERED, FlagStatus.DISMISSED)


class FlagSeverity(models.IntegerChoices):
    WATCH = 1, _("관심")
    CONCERN = 2, _("주의")
    URGENT = 3, _("긴급")


class IndicatorRow(models.Model):
    """What every indicator row holds: whose, which school's, and the file it came from."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        Student, verbose_name=_("학생"), on_delete=models.PROTECT, related_name="+"
    )
    school = models.ForeignKey(
        Organization, verbose_name=_("학교"), on_delete=models.PROTECT, related_name="+"
    )
    job = models.ForeignKey(
        Job,
        verbose_name=_("가져온 작업"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    file_name = models.CharField(_("파일 이름"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Moves only when an import changes the row's values: a newer row is new evidence.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AttendanceSummary(IndicatorRow):
    """A NEIS attendance summary of one student over one period (출결 현황)."""

    period_start = models.DateField(_("기간 시작일"))
    period_end = models.DateField(_("기간 종료일"))
    school_days = models.PositiveSmallIntegerField(_("수업일수"))
    absent_illness = models.PositiveSmallIntegerField(_("질병 결석"), default=0)
    absent_unexcused = models.PositiveSmallIntegerField(_("미인정 결석"), default=0)
    absent_other = models.PositiveSmallIntegerField(_("기타 결석"), default=0)
    late = models.PositiveSmallIntegerField(_("지각"), default=0)
    early_leave = models.PositiveSmallIntegerField(_("조퇴"), default=0)
    missed_classes = models.PositiveSmallIntegerField(_("결과"), default=0)

    history = HistoricalRecords(no_db_index=["student", "school", "job"])

    class Meta:
        verbose_name = _("출결 현황")
        verbose_name_plural = _("출결 현황")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "period_start", "period_end"],
                name="attendance_one_row_per_period",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="attendance_period_in_order",
            ),
        ]
        indexes = [models.Index(fields=["school", "-period_end"])]

    def __str__(self):
        return f"{self.student_id} {self.period_start}~{self.period_end}"


class BasicLearningResult(IndicatorRow):
    """One subject of a 기초학력 진단 of one student."""

    assessed_on = models.DateField(_("진단일"))
    subject = models.CharField(_("과목"), max_length=40)
    result = models.CharField(_("결과"), max_length=20, choices=Achievement.choices)

    history = HistoricalRecords(no_db_index=["student", "school", "job"])

    class Meta:
        verbose_name = _("기초학력 진단 결과")
        verbose_name_plural = _("기초학력 진단 결과")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "assessed_on", "subject"],
                name="basic_learning_one_row_per_subject",
            )
        ]
        indexes = [models.Index(fields=["school", "-assessed_on"])]

    def __str__(self):
        return f"{self.student_id} {self.assessed_on} {self.subject}"


class ScreeningResult(IndicatorRow):
    """A 학생정서·행동특성검사 level of one student: health data (Decree 17), read only as
    casework/access/discovery.py allows."""

    assessed_on = models.DateField(_("검사일"))
    level = models.CharField(_("검사 결과"), max_length=20, choices=ScreeningLevel.choices)

    history = HistoricalRecords(no_db_index=["student", "school", "job"])

    class Meta:
        verbose_name = _("정서·행동특성검사 결과")
        verbose_name_plural = _("정서·행동특성검사 결과")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "assessed_on"], name="screening_one_row_per_test"
            )
        ]
        indexes = [models.Index(fields=["school", "-assessed_on"])]

    def __str__(self):  # never the level: it is health data
        return f"{self.student_id} {self.assessed_on}"


class DiscoveryRules(models.Model):
    """The thresholds in force: an education office's defaults (`office`), or a school's
    tightening of them (`school`). Where an office has none, DEFAULT_RULES apply."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.OneToOneField(
        Organization,
        verbose_name=_("교육청"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="discovery_defaults",
    )
    school = models.OneToOneField(
        Organization,
        verbose_name=_("학교"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="discovery_rules",
    )
    absence_days = models.PositiveSmallIntegerField(_("최근 30일 미인정 결석 일수"))
    absence_percent = models.PositiveSmallIntegerField(_("수업일수 대비 미인정 결석 비율(퍼센트)"))
    not_reached_subjects = models.PositiveSmallIntegerField(_("기초학력 미도달 과목 수"))
    screening_level = models.CharField(
        _("정서·행동특성검사 기준"), max_length=20, choices=ScreeningLevel.choices
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(no_db_index=["office", "school", "updated_by"])

    class Meta:
        verbose_name = _("조기 발견 기준")
        verbose_name_plural = _("조기 발견 기준")
        constraints = [
            models.CheckConstraint(
                condition=Q(office__isnull=True, school__isnull=False)
                | Q(office__isnull=False, school__isnull=True),
                name="discovery_rules_of_office_or_school",
            ),
            models.CheckConstraint(
                condition=Q(absence_days__gte=1)
                & Q(absence_percent__gte=1)
                & Q(absence_percent__lte=100)
                & Q(not_reached_subjects__gte=1),
                name="discovery_rules_positive",
            ),
        ]

    def __str__(self):
        return str(self.school_id or self.office_id)


class DiscoveryFlag(models.Model):
    """A student who crossed a rule: the reasons in Korean, the domains, and the indicator rows
    that crossed. Written by the set-based evaluation (casework/workflows/discovery.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        Student, verbose_name=_("학생"), on_delete=models.PROTECT, related_name="discovery_flags"
    )
    school = models.ForeignKey(
        Organization, verbose_name=_("학교"), on_delete=models.PROTECT, related_name="+"
    )
    reasons = models.JSONField(_("사유"), default=list)
    domains = ArrayField(models.CharField(max_length=20), verbose_name=_("영역"), default=list)
    severity = models.PositiveSmallIntegerField(
        _("심각도"), choices=FlagSeverity.choices, default=FlagSeverity.WATCH
    )
    composite = models.BooleanField(_("복합 위기"), default=False)
    status = models.CharField(
        _("상태"), max_length=20, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    # The indicator rows that crossed a rule.
    attendance = models.ForeignKey(
        AttendanceSummary, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    screening = models.ForeignKey(
        ScreeningResult, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    basic_learning = ArrayField(models.UUIDField(), default=list, blank=True)
    # The newest change among those rows: a dismissed flag re-opens only past it.
    evidence_at = models.DateTimeField()
    # The open case or concern the flag shows on instead of the flag list.
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="discovery_flags"
    )
    concern = models.ForeignKey(
        Concern, on_delete=models.SET_NULL, null=True, blank=True, related_name="discovery_flags"
    )
    dismissed_reason = models.TextField(_("해당 없음 사유"), blank=True)
    created_at = models.DateTimeField(_("발견 일시"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(
        no_db_index=["student", "school", "attendance", "screening", "case", "concern"]
    )

    class Meta:
        verbose_name = _("조기 발견 신호")
        verbose_name_plural = _("조기 발견 신호")
        ordering = ["-severity", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(status__in=CURRENT_FLAG_STATUSES),
                name="flag_one_current_per_student",
            )
        ]
        indexes = [models.Index(fields=["school", "status", "-severity", "-created_at"])]

    def __str__(self):
        return f"{self.student} ({self.get_status_display()})"
