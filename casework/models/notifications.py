import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Notification(models.Model):
    """Written in the business transaction (outbox); delivered in-app at once, by e-mail later."""

    class EmailStatus(models.TextChoices):
        PENDING = "pending", _("발송 대기")
        SENT = "sent", _("발송 완료")
        FAILED = "failed", _("발송 실패")
        SKIPPED = "skipped", _("발송 안 함")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    case = models.ForeignKey(
        "casework.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("알림")
        verbose_name_plural = _("알림")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"]),
            models.Index(fields=["email_status", "created_at"]),
        ]

    def __str__(self):
        return self.title


class Job(models.Model):
    """A long-running task the user watches: roster imports and exports."""

    class Kind(models.TextChoices):
        ROSTER_IMPORT = "roster_import", _("학생 명부 가져오기")

    class Status(models.TextChoices):
        QUEUED = "queued", _("대기")
        RUNNING = "running", _("진행 중")
        SUCCEEDED = "succeeded", _("완료")
        FAILED = "failed", _("실패")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs"
    )
    organization = models.ForeignKey(
        "partners.Organization", on_delete=models.PROTECT, related_name="jobs"
    )
    dry_run = models.BooleanField(default=False)
    file_name = models.CharField(max_length=255, blank=True)
    payload = models.BinaryField(editable=False, null=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # The uploaded file is personal data kept only while the job runs; progress is a counter.
    history = HistoricalRecords(excluded_fields=["payload", "processed"])

    class Meta:
        verbose_name = _("작업")
        verbose_name_plural = _("작업")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def progress(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0


class EmailDigest(models.Model):
    """One daily summary e-mail per person and day: the row makes the digest idempotent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("일일 알림 요약")
        verbose_name_plural = _("일일 알림 요약")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "day"], name="digest_once_a_day")
        ]

    def __str__(self):
        return f"{self.recipient} {self.day}"
