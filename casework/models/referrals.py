import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from partners.models import Organization

from .cases import Case


class ReferralKind(models.TextChoices):
    ESCALATION = "escalation", _("교육지원청 요청")
    SERVICE = "service", _("서비스 의뢰")


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", _("작성 중")
    SENT = "sent", _("발송")
    RECEIVED = "received", _("접수")
    ACCEPTED = "accepted", _("수락")
    IN_PROGRESS = "in_progress", _("진행 중")
    COMPLETED = "completed", _("완료")
    DECLINED = "declined", _("거절")
    CANCELLED = "cancelled", _("취소")


class Referral(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        Case, verbose_name=_("사례"), on_delete=models.PROTECT, related_name="referrals"
    )
    kind = models.CharField(_("의뢰 종류"), max_length=20, choices=ReferralKind.choices)
    from_organization = models.ForeignKey(
        Organization,
        verbose_name=_("보낸 기관"),
        on_delete=models.PROTECT,
        related_name="referrals_sent",
    )
    to_organization = models.ForeignKey(
        Organization,
        verbose_name=_("받는 기관"),
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    status = models.CharField(
        _("상태"), max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("의뢰")
        verbose_name_plural = _("의뢰")
        ordering = ["-created_at"]
        default_permissions = ("view",)
        permissions = [("act_on_referral", _("의뢰 처리"))]

    def __str__(self):
        return f"{self.case} → {self.to_organization}"
