import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords
from partners.choices import OrganizationKind
from partners.models import Organization

from ..choices import Sex


class EnrolmentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("재학")
    TRANSFERRED_OUT = "transferred_out", _("전출")
    GRADUATED = "graduated", _("졸업")
    LEFT = "left", _("학업 중단")


class BenefitStatus(models.TextChoices):
    """Sensitive (DESIGN.md §3): shared only with an explicit tick and an agreement allowing it."""

    NONE = "", _("해당 없음")
    BASIC_LIVELIHOOD = "basic_livelihood", _("기초생활수급")
    NEAR_POVERTY = "near_poverty", _("차상위")
    SINGLE_PARENT = "single_parent", _("한부모")


class Student(models.Model):
    """A pupil on a school's roster. Ieum never stores 주민등록번호 (PIPA)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school = models.ForeignKey(
        Organization,
        verbose_name=_("학교"),
        on_delete=models.PROTECT,
        related_name="students",
        limit_choices_to={"kind": OrganizationKind.SCHOOL},
    )
    name = models.CharField(_("이름"), max_length=100)
    birth_date = models.DateField(_("생년월일"))
    sex = models.CharField(_("성별"), max_length=10, choices=Sex.choices)
    grade = models.PositiveSmallIntegerField(_("학년"))
    class_no = models.PositiveSmallIntegerField(_("반"))
    number = models.PositiveSmallIntegerField(_("번호"))
    neis_id = models.CharField(_("NEIS 학생 식별번호"), max_length=40, blank=True)
    enrolment_status = models.CharField(
        _("학적 상태"),
        max_length=20,
        choices=EnrolmentStatus.choices,
        default=EnrolmentStatus.ENROLLED,
    )
    multicultural = models.BooleanField(_("다문화·이주배경"), default=False)
    special_education = models.BooleanField(_("특수교육대상"), default=False)
    north_korean_defector = models.BooleanField(_("북한이탈주민 가정"), default=False)
    refugee = models.BooleanField(_("난민 가정"), default=False)
    benefit_status = models.CharField(
        _("수급 상태"), max_length=20, choices=BenefitStatus.choices, blank=True
    )
    family_structure = models.CharField(_("가족 구성"), max_length=200, blank=True)
    home_borough = models.ForeignKey(
        Organization,
        verbose_name=_("거주 자치구"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resident_students",
        limit_choices_to={"kind": OrganizationKind.LOCAL_GOVERNMENT},
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # History is read by student (`id`) and by date; a roster import writes a row per student,
    # so the history table keeps no index for the school or the borough.
    history = HistoricalRecords(no_db_index=["school", "home_borough"])

    class Meta:
        verbose_name = _("학생")
        verbose_name_plural = _("학생")
        ordering = ["grade", "class_no", "number"]
        indexes = [
            models.Index(fields=["school", "grade", "class_no", "number"]),
            models.Index(fields=["school", "name"]),
        ]
        constraints = [
            # Re-importing a roster updates the same student instead of duplicating them.
            models.UniqueConstraint(
                fields=["school", "neis_id"],
                condition=~Q(neis_id=""),
                name="student_unique_neis_id_per_school",
            ),
            models.CheckConstraint(
                condition=Q(grade__gte=1, grade__lte=12), name="student_grade_range"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def roster_label(self) -> str:
        return f"{self.grade}-{self.class_no}-{self.number} {self.name}"


class Guardian(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        Student, verbose_name=_("학생"), on_delete=models.CASCADE, related_name="guardians"
    )
    name = models.CharField(_("이름"), max_length=100)
    relation = models.CharField(_("관계"), max_length=40)
    phone = models.CharField(_("연락처"), max_length=40, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("보호자")
        verbose_name_plural = _("보호자")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.relation})"
