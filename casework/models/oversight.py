"""The accountable side (DESIGN.md §9): break-glass openings and the monthly access-log review.

A break-glass opening lets a privacy officer or a centre head read one case outside their grants
for a few hours, with a written reason. The monthly review (PIPA safeguards, 8조) gathers the
month's access events into findings that the privacy officer works through: ask the person
concerned for an explanation (소명), read the answer, close with a resolution.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords
from partners.models import Organization

from .cases import Case


class BreakGlass(models.Model):
    """One opening of one case outside the opener's grants (긴급 열람). It lasts until
    `expires_at`, or until the opener ends it; it never reaches restricted notes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        Case, verbose_name=_("사례"), on_delete=models.PROTECT, related_name="break_glasses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("열람자"),
        on_delete=models.PROTECT,
        related_name="break_glasses",
    )
    membership = models.ForeignKey(
        "partners.Membership",
        verbose_name=_("소속"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("사유"))
    opened_at = models.DateTimeField(_("연 시각"), default=timezone.now)
    expires_at = models.DateTimeField(_("만료 시각"))
    ended_at = models.DateTimeField(_("종료 시각"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("긴급 열람")
        verbose_name_plural = _("긴급 열람")
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["user", "case", "expires_at"]),
            models.Index(fields=["case", "-opened_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self):
        return f"{self.case} · {self.user} ({self.opened_at:%Y-%m-%d %H:%M})"

    def in_force(self, now=None) -> bool:
        now = now or timezone.now()
        return self.ended_at is None and self.expires_at > now


class AccessReview(models.Model):
    """The review of one month of access events for one provincial office."""

    class Status(models.TextChoices):
        BUILDING = "building", _("작성 중")
        BUILT = "built", _("작성 완료")
        REVIEWED = "reviewed", _("점검 완료")
        FAILED = "failed", _("작성 실패")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        Organization,
        verbose_name=_("교육청"),
        on_delete=models.PROTECT,
        related_name="access_reviews",
    )
    month = models.DateField(_("점검 월"), help_text=_("그 달의 1일"))
    status = models.CharField(
        _("상태"), max_length=20, choices=Status.choices, default=Status.BUILDING
    )
    event_count = models.PositiveIntegerField(_("점검한 접속 기록 수"), default=0)
    built_at = models.DateTimeField(_("작성 시각"), null=True, blank=True)
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("작성 요청자"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("비어 있으면 매월 첫 업무일에 도는 작업이 작성한 것입니다."),
    )
    job = models.ForeignKey(
        "casework.Job",
        verbose_name=_("작업"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("점검 완료 시각"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("점검자"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("접속 기록 월간 점검")
        verbose_name_plural = _("접속 기록 월간 점검")
        ordering = ["-month", "office__name"]
        constraints = [
            models.UniqueConstraint(fields=["office", "month"], name="one_review_per_office_month")
        ]

    def __str__(self):
        return f"{self.office} {self.month:%Y-%m}"


class ReviewFinding(models.Model):
    """One finding of a review: a kind, the person concerned, and the events behind it."""

    class Kind(models.TextChoices):
        AFTER_HOURS = "after_hours", _("업무 시간 외 접속")
        VOLUME = "volume", _("평소보다 많은 열람")
        BREAK_GLASS = "break_glass", _("긴급 열람")
        EXPORT = "export", _("내려받기·내보내기")
        AFTER_MEMBERSHIP_END = "after_membership_end", _("소속 종료·승인 만료 뒤 접속")
        UNAPPROVED_HANDLER = "unapproved_handler", _("승인·교육 없는 취급자")
        OUTSIDE_CASELOAD = "outside_caseload", _("담당 외 사례 열람")

    class Status(models.TextChoices):
        OPEN = "open", _("확인 전")
        ASKED = "asked", _("소명 요청")
        ANSWERED = "answered", _("소명 답변")
        CLOSED = "closed", _("종결")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    review = models.ForeignKey(
        AccessReview, verbose_name=_("점검"), on_delete=models.CASCADE, related_name="findings"
    )
    kind = models.CharField(_("종류"), max_length=30, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("대상자"),
        on_delete=models.PROTECT,
        related_name="review_findings",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("기관"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    count = models.PositiveIntegerField(_("건수"), default=0)
    first_at = models.DateTimeField(_("처음"), null=True, blank=True)
    last_at = models.DateTimeField(_("마지막"), null=True, blank=True)
    # The access events behind the finding (AccessEvent ids: the access log is partitioned by
    # month, so the ids are kept as a list rather than as a foreign key).
    event_ids = models.JSONField(_("접속 기록"), default=list, blank=True)
    # What the rule measured (baseline, role median, hours, reasons): codes and numbers only.
    detail = models.JSONField(_("세부 내용"), default=dict, blank=True)
    status = models.CharField(_("상태"), max_length=20, choices=Status.choices, default=Status.OPEN)
    question = models.TextField(_("소명 요청 내용"), blank=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("소명 요청자"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    asked_at = models.DateTimeField(_("소명 요청 시각"), null=True, blank=True)
    answer = models.TextField(_("소명 내용"), blank=True)
    answered_at = models.DateTimeField(_("소명 시각"), null=True, blank=True)
    resolution = models.TextField(_("처리 결과"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("종결 처리자"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("종결 시각"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("점검 결과")
        verbose_name_plural = _("점검 결과")
        ordering = ["review", "kind", "-count"]
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["review", "kind"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.user} ({self.get_status_display()})"
