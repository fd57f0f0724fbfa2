import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords

from .cases import CaseStatus, Concern

logger = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Message:
    """How one kind of notification reads. The templates are Korean source strings, filled with
    the row's `params` in the language of whoever reads it (the page, the API request, the
    e-mail), never in the language of whoever caused it.

    `labels` names params that hold a code of a TextChoices, shown as its translated label.
    `variants` are alternative titles chosen by the param `variant`. Without a `body` template
    the body is the free text the actor wrote (a reason, an outcome), shown as written."""

    title: Promise
    body: Promise | None = None
    labels: Mapping[str, type[models.TextChoices]] = field(default_factory=dict)
    variants: Mapping[str, Promise] = field(default_factory=dict)

    def templates(self) -> list[Promise]:
        return [self.title, *self.variants.values(), *([self.body] if self.body else [])]

    def fields(self) -> set[str]:
        """The params the message needs, and may hold: nothing else is stored."""
        with translation.override(settings.LANGUAGE_CODE):
            names = {name for text in self.templates() for name in PLACEHOLDER.findall(str(text))}
        return names | ({"variant"} if self.variants else set())

    def _fill(self, template: Promise, params: Mapping) -> str:
        values = dict(params)
        for name, choices in self.labels.items():
            if values.get(name) in choices.values:
                values[name] = choices(values[name]).label
        return str(template) % values

    def render_title(self, params: Mapping) -> str:
        return self._fill(self.variants.get(params.get("variant"), self.title), params)

    def render_body(self, params: Mapping, text: str = "") -> str:
        return self._fill(self.body, params) if self.body else text


# Every kind notify() may write (casework/notify/). A kind's params are part of the stored data:
# rename a placeholder only with a migration of the rows that use it.
MESSAGES: dict[str, Message] = {
    "concern_raised": Message(_("새 지원 요청: %(name)s")),
    # `name` is the student's: each of these goes only to people who may see it (the teacher
    # who raised the concern, the case's school staff and team).
    "concern_triaged": Message(
        _("%(name)s 학생(%(number)s) 지원 요청 검토 결과: %(result)s"),
        labels={"result": Concern.Triage},
        variants={"no_case": _("%(name)s 학생 지원 요청 검토 결과: %(result)s")},
    ),
    "case_opened": Message(_("%(name)s 학생(%(number)s) 사례 개설")),
    "case_status": Message(
        _("%(name)s 학생(%(number)s): %(status)s"), labels={"status": CaseStatus}
    ),
    "team_added": Message(_("%(name)s 학생(%(number)s) 사례 팀에 배정되었습니다")),
    "plan_submitted": Message(_("%(name)s 학생(%(number)s) 지원 계획 승인 요청")),
    "plan_approved": Message(_("%(name)s 학생(%(number)s) 지원 계획 승인")),
    "plan_returned": Message(_("%(name)s 학생(%(number)s) 지원 계획 반려")),
    "referral_received": Message(
        _("새 의뢰가 도착했습니다: %(number)s"),
        body=_("보낸 기관: %(org)s · 회신 기한: %(date)s"),
        variants={"escalation": _("교육지원청 요청이 도착했습니다: %(number)s")},
    ),
    "referral_received_ack": Message(_("%(org)s에서 의뢰를 접수했습니다: %(number)s")),
    "referral_accepted": Message(_("%(org)s에서 의뢰를 수락했습니다: %(number)s")),
    "referral_declined": Message(_("%(org)s에서 의뢰를 거절했습니다: %(number)s")),
    "referral_started": Message(_("%(org)s에서 지원을 시작했습니다: %(number)s")),
    "referral_completed": Message(_("의뢰 결과가 도착했습니다: %(number)s")),
    "referral_cancelled": Message(_("의뢰가 취소되었습니다: %(number)s")),
    "referral_assigned": Message(_("의뢰 담당자로 지정되었습니다: %(number)s")),
    "referral_message": Message(_("의뢰에 새 메시지가 있습니다: %(number)s")),
    "referral_sender_changed": Message(
        _("의뢰를 보낸 기관이 바뀌었습니다: %(number)s"),
        body=_("전학으로 %(new)s에서 이어서 담당합니다."),
    ),
    "referral_overdue": Message(_("회신 기한이 %(days)s일 지났습니다: %(number)s")),
    "referral_overdue_sender": Message(
        _("보낸 의뢰의 회신이 %(days)s일 늦어지고 있습니다: %(number)s"),
        body=_("받는 기관: %(org)s"),
    ),
    "transfer_requested": Message(_("전학 이관 요청: %(school)s → %(to)s")),
    "transfer_accepted": Message(
        _("전학 이관이 완료되었습니다: %(number)s"), body=_("전학 간 학교: %(to)s")
    ),
    "transfer_declined": Message(_("전학 이관이 거절되었습니다: %(number)s")),
    "lead_office_revoked": Message(
        _("동의 철회로 사례 주관이 끝났습니다: %(number)s"),
        body=_("%(school)s에서 다시 주관하며, 이 사례는 더 이상 볼 수 없습니다."),
        variants={"expired": _("동의 만료로 사례 주관이 끝났습니다: %(number)s")},
    ),
    # To the owner school's coordinator; the body is the opener's reason, as written.
    "break_glass_opened": Message(_("%(user)s 님(%(org)s)이 %(number)s 사례를 긴급 열람했습니다")),
    # The monthly access-log review (DESIGN.md §9): built, a question to the person concerned
    # (the body is the officer's question), their answer back to the officer.
    "access_review_built": Message(
        _("%(month)s 접속 기록 점검이 작성되었습니다: 점검 결과 %(count)s건")
    ),
    "finding_asked": Message(_("%(month)s 접속 기록 점검에 대해 소명을 요청받았습니다")),
    "finding_answered": Message(_("%(user)s 님이 %(month)s 접속 기록 점검에 소명했습니다")),
    # An alert from a partner (DESIGN.md §11): to the school's coordinator, the concern it made
    # (`name` is the student's); to a district office's centre staff, an alert to send on by
    # hand (`org` is the sender's organisation). Urgent ones say so in the title.
    "alert_concern": Message(
        _("외부 기관 알림으로 지원 요청: %(name)s"),
        variants={"urgent": _("[긴급] 외부 기관 알림으로 지원 요청: %(name)s")},
    ),
    "alert_to_route": Message(
        _("학교로 보낼 외부 기관 알림: %(org)s"),
        variants={"urgent": _("[긴급] 학교로 보낼 외부 기관 알림: %(org)s")},
    ),
}


class Notification(models.Model):
    """Written in the business transaction (outbox); delivered in-app at once, by e-mail later.

    `kind` and `params` say what happened; the text is rendered from MESSAGES when the row is
    shown, in the reader's language. `title` and `body` keep the text in the site language
    (Korean) as written, for the history and for rows from before `params` existed (NULL),
    which show that stored text."""

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
    params = models.JSONField(null=True, blank=True, editable=False)
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

    @property
    def message(self) -> Message | None:
        return MESSAGES.get(self.kind) if self.params is not None else None

    @property
    def display_title(self) -> str:
        """The title in the active language."""
        return self._render("title")

    @property
    def display_body(self) -> str:
        """The body in the active language; free text the actor wrote is shown as written."""
        return self._render("body")

    def _render(self, part: str) -> str:
        message = self.message
        if message is None:
            return self.title if part == "title" else self.body
        try:
            if part == "title":
                return message.render_title(self.params)
            return message.render_body(self.params, self.body)
        except (KeyError, TypeError, ValueError):
            # A translation that lost a placeholder must not break the page: show what was stored.
            logger.warning("notification %s (%s) does not render its %s", self.pk, self.kind, part)
            return self.title if part == "title" else self.body


class Job(models.Model):
    """A long-running task the user watches: roster imports and exports."""

    class Kind(models.TextChoices):
        ROSTER_IMPORT = "roster_import", _("학생 명부 가져오기")
        ACCESS_REVIEW = "access_review", _("접속 기록 월간 점검 작성")
        EXPORT = "export", _("내보내기")

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
    # An export's stated reason (its watermark and every download's access event) and when its
    # file goes (EXPORT_TTL_HOURS after it is ready; the file is the payload).
    reason = models.CharField(_("사유"), max_length=500, blank=True)
    expires_at = models.DateTimeField(_("보관 기한"), null=True, blank=True)

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
