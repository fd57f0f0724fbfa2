import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords

from ..choices import ConsentMethod, ConsentSubject
from .cases import Case


class Note(models.Model):
    """Append-only case record: a correction is an amendment linked to the note it corrects."""

    class Kind(models.TextChoices):
        OBSERVATION = "observation", _("관찰")
        COUNSELLING = "counselling", _("상담")
        CALL = "call", _("통화")
        HOME_VISIT = "home_visit", _("가정 방문")
        MEETING = "meeting", _("회의")

    class Confidentiality(models.TextChoices):
        TEAM = "team", _("사례 팀")
        RESTRICTED = "restricted", _("비공개")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("종류"), max_length=20, choices=Kind.choices)
    body = models.TextField(_("내용"))
    occurred_at = models.DateTimeField(_("일시"), default=timezone.now)
    confidentiality = models.CharField(
        _("공개 범위"), max_length=20, choices=Confidentiality.choices, default=Confidentiality.TEAM
    )
    amends = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="amendments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("기록")
        verbose_name_plural = _("기록")
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["case", "-occurred_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("기록은 수정할 수 없습니다. 정정 기록을 추가하세요."))
        super().save(*args, **kwargs)


class Consent(models.Model):
    """Act Art. 11③: support needs consent of both the student and the guardian."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consents")
    subject = models.CharField(_("동의 주체"), max_length=10, choices=ConsentSubject.choices)
    guardian_name = models.CharField(_("보호자 이름"), max_length=100, blank=True)
    relation = models.CharField(_("관계"), max_length=40, blank=True)
    purposes = models.JSONField(_("동의 목적"), default=list)
    recipients = models.JSONField(_("제공받는 기관"), default=list, blank=True)
    method = models.CharField(_("동의 방법"), max_length=20, choices=ConsentMethod.choices)
    given_on = models.DateField(_("동의일"))
    expires_on = models.DateField(_("만료일"), null=True, blank=True)
    withdrawn_on = models.DateField(_("철회일"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("철회 사유"), blank=True)
    document = models.FileField(_("동의서 사본"), upload_to="consents/%Y/", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("동의")
        verbose_name_plural = _("동의")
        ordering = ["-given_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gte=models.F("given_on")),
                name="consent_validity",
            )
        ]

    def __str__(self):
        return f"{self.get_subject_display()} {self.given_on}"

    def is_valid(self, day=None) -> bool:
        day = day or timezone.localdate()
        return (
            self.withdrawn_on is None
            and self.given_on <= day
            and (self.expires_on is None or self.expires_on >= day)
        )
