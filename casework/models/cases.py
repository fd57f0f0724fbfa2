import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from partners.models import Organization


class CaseStatus(models.TextChoices):
    IDENTIFIED = "identified", _("발굴")
    REVIEWING = "reviewing", _("검토 중")
    SELECTED = "selected", _("선정")
    NOT_SELECTED = "not_selected", _("미선정")
    ACTIVE = "active", _("지원 중")
    MONITORING = "monitoring", _("모니터링")
    CLOSED = "closed", _("종결")


class RiskLevel(models.TextChoices):
    WATCH = "watch", _("관심")
    CAUTION = "caution", _("주의")
    CRISIS = "crisis", _("위기")
    URGENT = "urgent", _("긴급")


class Case(models.Model):
    """A student's support case. Access to a case is granted only through casework/access.py."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(_("사례 번호"), max_length=40, unique=True)
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
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

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

    def __str__(self):
        return self.number
