"""What flows between organisations (DESIGN.md §4): referrals, their thread, transfers."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords
from partners.models import Organization, Service

from ..choices import LegalBasis, Urgency
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


# Waiting on the receiver: these count for the respond-by deadline and overdue flags.
AWAITING_RESPONSE = (ReferralStatus.SENT, ReferralStatus.RECEIVED)
OPEN_STATUSES = (
    ReferralStatus.DRAFT,
    ReferralStatus.SENT,
    ReferralStatus.RECEIVED,
    ReferralStatus.ACCEPTED,
    ReferralStatus.IN_PROGRESS,
)
CLOSED_STATUSES = (ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.CANCELLED)


class Referral(models.Model):
    """의뢰: an escalation to the district office or a service referral to a partner. The
    receiver of a service referral reads `packet`, the snapshot taken at send, never the case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(_("의뢰 번호"), max_length=40, unique=True, null=True, blank=True)
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
    service = models.ForeignKey(
        Service,
        verbose_name=_("서비스"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    status = models.CharField(
        _("상태"), max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT
    )
    urgency = models.CharField(
        _("긴급도"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    reason = models.TextField(_("의뢰 사유"), default="")
    requested_domains = models.JSONField(_("요청 지원 영역"), default=list, blank=True)
    requested_support = models.TextField(_("요청 지원 내용"), blank=True)
    shared_fields = models.JSONField(_("공유 항목"), default=list, blank=True)
    notes_excerpt = models.TextField(
        _("공유할 기록 발췌"),
        blank=True,
        help_text=_("'기록 발췌' 항목을 공유할 때 받는 기관에 보낼 내용"),
    )
    packet = models.JSONField(_("공유 정보"), null=True, blank=True, editable=False)
    legal_basis = models.CharField(
        _("제공 근거"), max_length=20, choices=LegalBasis.choices, default=LegalBasis.CONSENT
    )
    consent = models.ForeignKey(
        "Consent",
        verbose_name=_("근거 동의"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    justification = models.TextField(_("제공 근거 설명"), blank=True)
    privacy_review = models.BooleanField(_("개인정보 검토 대상"), default=False)
    agreement = models.ForeignKey(
        "partners.Agreement",
        verbose_name=_("정보공유 협약"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    respond_by = models.DateField(_("회신 기한"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("받는 기관 담당자"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_referrals",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("작성자"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    decision_reasons = models.TextField(_("결정 사유"), blank=True)
    decline_reason = models.TextField(_("거절 사유"), blank=True)
    cancel_reason = models.TextField(_("취소 사유"), blank=True)
    outcome = models.TextField(_("결과"), blank=True)
    sent_at = models.DateTimeField(_("발송일시"), null=True, blank=True)
    received_at = models.DateTimeField(_("접수일시"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("수락일시"), null=True, blank=True)
    started_at = models.DateTimeField(_("시작일시"), null=True, blank=True)
    closed_at = models.DateTimeField(_("종료일시"), null=True, blank=True)
    packet_expires_on = models.DateField(_("공유 정보 보관 기한"), null=True, blank=True)
    packet_purged_at = models.DateTimeField(_("공유 정보 파기일시"), null=True, blank=True)
    reminded_on = models.DateField(_("마지막 독촉일"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("독촉 횟수"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    # The packet is immutable (its taking is the `sent` change) and is destroyed when its
    # retention ends: history must not keep copies of it, nor of the excerpt it was made from.
    history = HistoricalRecords(excluded_fields=["packet", "notes_excerpt"])

    class Meta:
        verbose_name = _("의뢰")
        verbose_name_plural = _("의뢰")
        ordering = ["-created_at"]
        default_permissions = ("view",)
        permissions = [("act_on_referral", _("의뢰 처리"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ReferralStatus.COMPLETED) | ~Q(outcome=""),
                name="referral_completed_has_outcome",
            ),
            # Escalations too: only the agreement is waived inside the education system.
            models.CheckConstraint(
                condition=~Q(legal_basis=LegalBasis.CONSENT)
                | Q(consent__isnull=False)
                | Q(status=ReferralStatus.DRAFT)
                | Q(status=ReferralStatus.CANCELLED),
                name="referral_sent_on_consent_names_it",
            ),
            models.CheckConstraint(
                condition=Q(legal_basis=LegalBasis.CONSENT) | ~Q(justification=""),
                name="referral_legal_basis_justified",
            ),
        ]
        indexes = [
            models.Index(fields=["to_organization", "status", "-created_at"]),
            models.Index(fields=["from_organization", "status", "-created_at"]),
            models.Index(fields=["case", "status"]),
            models.Index(fields=["status", "respond_by"]),
        ]

    def __str__(self):
        return self.number or f"{self.case} → {self.to_organization}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, day=None) -> bool:
        from casework.deadlines import today

        return (
            self.status in AWAITING_RESPONSE
            and self.respond_by is not None
            and self.respond_by < (day or today())
        )


class ReferralMessage(models.Model):
    """The thread between the two sides of a referral. Append-only, like notes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("내용"))
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("의뢰 메시지")
        verbose_name_plural = _("의뢰 메시지")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["referral", "created_at"])]

    def __str__(self):
        return f"{self.referral} {self.created_at:%Y-%m-%d %H:%M}"


class Transfer(models.Model):
    """전학 이관: the case moves with a student who changes school."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("요청")
        ACCEPTED = "accepted", _("수락")
        DECLINED = "declined", _("거절")
        CANCELLED = "cancelled", _("취소")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers")
    from_school = models.ForeignKey(
        Organization, verbose_name=_("이전 학교"), on_delete=models.PROTECT, related_name="+"
    )
    to_school = models.ForeignKey(
        Organization, verbose_name=_("전학 간 학교"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("상태"), max_length=20, choices=Status.choices, default=Status.REQUESTED
    )
    reason = models.TextField(_("사유"))
    response_reason = models.TextField(_("응답 사유"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("전학 이관")
        verbose_name_plural = _("전학 이관")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="requested"),
                name="transfer_one_pending_per_case",
            ),
            models.CheckConstraint(
                condition=~Q(from_school=models.F("to_school")), name="transfer_changes_school"
            ),
        ]
        indexes = [models.Index(fields=["to_school", "status"])]

    def __str__(self):
        return f"{self.case}: {self.from_school} → {self.to_school}"


class TransferClaim(models.Model):
    """The new school claims a student's case (DESIGN.md §4: "or the new school claims the
    hand-over"). The claimant names the student by NEIS id, name and birth date, never by
    browsing other schools' cases; `case` is the open case those identify, if any, and is never
    shown to the claimant, who sees the same answer whether or not there is one. The old
    school's coordinator confirms (the hand-over, a Transfer) or declines."""

    class Status(models.TextChoices):
        PENDING = "pending", _("확인 대기")
        CONFIRMED = "confirmed", _("이관 완료")
        DECLINED = "declined", _("거절")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    to_school = models.ForeignKey(
        Organization, verbose_name=_("전학 온 학교"), on_delete=models.PROTECT, related_name="+"
    )
    neis_id = models.CharField(_("NEIS 학생 식별번호"), max_length=40)
    student_name = models.CharField(_("학생 이름"), max_length=100)
    birth_date = models.DateField(_("생년월일"))
    reason = models.TextField(_("사유"))
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="transfer_claims"
    )
    status = models.CharField(
        _("상태"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    response_reason = models.TextField(_("응답 사유"), blank=True)
    transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="claim"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("전학 이관 확인 요청")
        verbose_name_plural = _("전학 이관 확인 요청")
        ordering = ["-claimed_at"]
        indexes = [
            models.Index(fields=["to_school", "-claimed_at"]),
            models.Index(fields=["case", "status"]),
        ]

    def __str__(self):
        return f"{self.to_school} ← {self.student_name}"
