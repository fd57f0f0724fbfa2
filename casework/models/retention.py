"""파기 대장: the record of what was destroyed or anonymised (DESIGN.md §3, §6; Decree 10)."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords


class DestructionRecord(models.Model):
    """One row per destroyed or anonymised object: what it was, which parts went, when, under
    which rule, and the date the rule made it due. It names the object and never copies what was
    destroyed. Append-only, like notes: the register is only trustworthy if it cannot be edited."""

    class Rule(models.TextChoices):
        # A closed referral's packet after the agreement's retention period (Decree 15④⑤).
        AGREEMENT_RETENTION = "agreement_retention", _("정보공유 협약의 보관 기간 경과")
        # Referrals outside any agreement (escalations, between education offices).
        DEFAULT_RETENTION = "default_retention", _("협약 없는 의뢰의 기본 보관 기간 경과")
        # The receiver loses the packet at once when the consent it relied on is withdrawn.
        CONSENT_WITHDRAWN = "consent_withdrawn", _("동의 철회")
        # Selection data once the student completed high school, or left school and turned 19
        # (Decree 10).
        SELECTION_RETENTION = "selection_retention", _("선정 자료 보관 기간 경과(시행령 제10조)")
        # Data gathered for a student whose support never got both consents.
        PRECONSENT_RETENTION = "preconsent_retention", _("동의를 받지 못한 자료의 보관 기간 경과")
        # A month of access events after ACCESS_LOG_YEARS (the whole partition goes).
        ACCESS_LOG_EXPIRY = "access_log_expiry", _("접속 기록 보관 기간 경과")
        # An export file after EXPORT_TTL_HOURS.
        EXPORT_EXPIRY = "export_expiry", _("내보낸 파일의 보관 기간 경과")

    class Action(models.TextChoices):
        DESTROYED = "destroyed", _("파기")
        ANONYMISED = "anonymised", _("익명화")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    object_type = models.CharField(_("대상 종류"), max_length=40)
    object_id = models.UUIDField(_("대상 ID"))
    object_label = models.CharField(_("대상"), max_length=100, blank=True)
    case = models.ForeignKey(
        "Case",
        verbose_name=_("사례"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="destruction_records",
    )
    parts = models.JSONField(_("파기한 항목"), default=list)
    action = models.CharField(
        _("처리"), max_length=20, choices=Action.choices, default=Action.DESTROYED
    )
    rule = models.CharField(_("근거 규칙"), max_length=40, choices=Rule.choices)
    rule_detail = models.CharField(_("근거 상세"), max_length=200, blank=True)
    due_on = models.DateField(_("보관 기한"), null=True, blank=True)
    destroyed_at = models.DateTimeField(_("파기일시"))
    destroyed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("처리자"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("비어 있으면 매일 도는 보관 기간 작업이 처리한 것입니다."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("파기 대장")
        verbose_name_plural = _("파기 대장")
        ordering = ["-destroyed_at"]
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["-destroyed_at"]),
        ]

    def __str__(self):
        return f"{self.object_label or self.object_id} {self.get_rule_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("파기 대장은 수정할 수 없습니다."))
        super().save(*args, **kwargs)
