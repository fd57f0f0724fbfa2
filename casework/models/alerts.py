import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords
from partners.choices import OrganizationKind
from partners.models import Organization

from ..choices import Urgency
from .cases import Concern
from .students import Student


class AlertStatus(models.TextChoices):
    """What the sender sees (DESIGN.md §11): received, then routed once a school's coordinator
    has a concern or a district office has the alert to route. Nothing says which of the two."""

    RECEIVED = "received", _("접수")
    ROUTED = "routed", _("전달 완료")


class Alert(models.Model):
    """외부 기관 알림: a partner, a 행정복지센터 or a police officer tells a school about a child
    they met. Ieum matches the child to a student and raises a concern at the student's school,
    or routes the alert to the district office covering the borough to be sent on by hand."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("알린 사람"),
        on_delete=models.PROTECT,
        related_name="alerts_sent",
    )
    sender_organization = models.ForeignKey(
        Organization,
        verbose_name=_("알린 기관"),
        on_delete=models.PROTECT,
        related_name="alerts_sent",
    )
    name = models.CharField(_("이름"), max_length=100)
    birth_date = models.DateField(_("생년월일"))
    school = models.ForeignKey(
        Organization,
        verbose_name=_("학교"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts_naming",
        limit_choices_to={"kind": OrganizationKind.SCHOOL},
    )
    borough = models.ForeignKey(
        Organization,
        verbose_name=_("거주 자치구"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts_in_borough",
        limit_choices_to={"kind": OrganizationKind.LOCAL_GOVERNMENT},
    )
    description = models.TextField(_("있었던 일"))
    urgency = models.CharField(
        _("긴급도"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    status = models.CharField(
        _("상태"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.RECEIVED
    )
    # Internal: never shown to the sender.
    student = models.ForeignKey(
        Student,
        verbose_name=_("학생"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
    )
    concern = models.OneToOneField(
        Concern,
        verbose_name=_("지원 요청"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alert",
    )
    office = models.ForeignKey(
        Organization,
        verbose_name=_("배정할 교육지원청"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts_to_route",
    )
    routed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("학교로 보낸 사람"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    routed_at = models.DateTimeField(_("학교로 보낸 일시"), null=True, blank=True)
    created_at = models.DateTimeField(_("알린 일시"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(no_db_index=["school", "borough", "student", "routed_by"])

    class Meta:
        verbose_name = _("외부 기관 알림")
        verbose_name_plural = _("외부 기관 알림")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["sender", "-created_at"]),
            models.Index(fields=["office", "-created_at"]),
        ]
        constraints = [
            # Routed means someone has it: a concern at a school, or a district office.
            models.CheckConstraint(
                condition=~Q(status=AlertStatus.ROUTED)
                | Q(concern__isnull=False)
                | Q(office__isnull=False),
                name="alert_routed_somewhere",
            ),
            models.CheckConstraint(
                condition=Q(concern__isnull=True) | Q(student__isnull=False),
                name="alert_concern_has_student",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_status_display()})"

    @property
    def waiting_for_school(self) -> bool:
        """Routed to a district office and not yet sent on to a school."""
        return self.office_id is not None and self.concern_id is None
