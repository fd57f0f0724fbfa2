from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessEvent(models.Model):
    """One read of personal data (PIPA safeguards: access logs). Append-only: a PostgreSQL trigger
    rejects UPDATE and DELETE, and each row's hash links the previous row of its month to the
    row's HMAC under ACCESS_LOG_KEY, so adding, removing or editing a row breaks the chain
    (`manage.py verify_access_log`, which also compares with the anchors outside the database)."""

    class Action(models.TextChoices):
        VIEW = "view", _("열람")
        LIST = "list", _("목록 조회")
        SEARCH = "search", _("검색")
        EXPORT = "export", _("내보내기")
        DOWNLOAD = "download", _("내려받기")
        PRINT = "print", _("인쇄")
        BREAK_GLASS = "break_glass", _("긴급 열람")

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    partition = models.CharField(max_length=7, help_text="YYYY-MM: the chain and expiry unit")
    # The table takes a row per request: it keeps only the indexes its readers use (the
    # composite ones below serve the lookups by user and by case too).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    membership = models.ForeignKey(
        "partners.Membership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=40)
    object_ids = models.JSONField(default=list)
    case = models.ForeignKey(
        "casework.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    student = models.ForeignKey(
        "casework.Student", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    path = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)  # checked by walking the chain, never looked up

    class Meta:
        verbose_name = _("개인정보 접속 기록")
        verbose_name_plural = _("개인정보 접속 기록")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["partition", "id"]),
            models.Index(fields=["case", "-occurred_at"]),
            models.Index(fields=["user", "-occurred_at"]),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.object_type}"


class AccessChainHead(models.Model):
    """The last hash of each month's chain, locked while a row is appended (a linear chain)."""

    partition = models.CharField(max_length=7, primary_key=True)
    last_hash = models.CharField(max_length=64)
    count = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.partition}: {self.count}"
