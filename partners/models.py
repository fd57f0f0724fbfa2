"""The network: organisations, agreements, services, people and their roles (DESIGN.md §2)."""

import hashlib
import secrets
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, TimestampMixin

from core.history import HistoricalRecords

from .catalogue import field_codes, sensitive_field_codes
from .choices import (
    EDUCATION_OFFICE_KINDS,
    ROLES_BY_KIND,
    AgencyType,
    IntakeStatus,
    OrganizationKind,
    Role,
    SchoolLevel,
)


def today() -> date:
    return timezone.localdate()


class OrganizationQuerySet(models.QuerySet):
    def boroughs(self):
        return self.filter(kind=OrganizationKind.LOCAL_GOVERNMENT)

    def active_in_borough(self, region_code: str):
        """Organisations that work in a borough: offices that cover it, partners that serve it,
        and organisations located in it."""
        return self.filter(
            Q(covers__region_code=region_code)
            | Q(serves__region_code=region_code)
            | Q(region_code=region_code)
        ).distinct()


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("기관 코드"), max_length=40, unique=True)
    name = models.CharField(_("기관명"), max_length=200)
    kind = models.CharField(_("기관 유형"), max_length=30, choices=OrganizationKind.choices)
    agency_type = models.CharField(
        _("협력기관 유형"), max_length=30, choices=AgencyType.choices, blank=True
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("상위 기관"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    region_code = models.CharField(
        _("행정표준코드(시군구)"),
        max_length=5,
        blank=True,
        db_index=True,
        help_text=_("시군구 5자리 행정표준코드, 예: 11545 금천구"),
    )
    school_level = models.CharField(
        _("학교급"), max_length=20, choices=SchoolLevel.choices, blank=True
    )
    covers = models.ManyToManyField(
        "self",
        verbose_name=_("관할 자치구"),
        symmetrical=False,
        blank=True,
        related_name="covered_by",
        limit_choices_to={"kind": OrganizationKind.LOCAL_GOVERNMENT},
        help_text=_("교육지원청이 관할하는 자치구"),
    )
    serves = models.ManyToManyField(
        "self",
        verbose_name=_("서비스 지역"),
        symmetrical=False,
        blank=True,
        related_name="served_by",
        limit_choices_to={"kind": OrganizationKind.LOCAL_GOVERNMENT},
        help_text=_("협력기관이 서비스하는 자치구"),
    )
    address = models.CharField(_("주소"), max_length=300, blank=True)
    phone = models.CharField(_("전화"), max_length=40, blank=True)
    email = models.EmailField(_("이메일"), blank=True)
    website = models.URLField(_("웹사이트"), blank=True)
    active = models.BooleanField(_("운영 중"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[covers, serves])
    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("기관")
        verbose_name_plural = _("기관")
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "name"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=OrganizationKind.SCHOOL) | Q(school_level=""),
                name="organization_school_level_only_for_schools",
            ),
            models.CheckConstraint(
                condition=~Q(kind=OrganizationKind.LOCAL_GOVERNMENT) | ~Q(region_code=""),
                name="organization_borough_has_region_code",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind == OrganizationKind.PARTNER_AGENCY and not self.agency_type:
            raise ValidationError({"agency_type": _("협력기관은 기관 유형을 지정해야 합니다.")})
        if self.region_code and not (len(self.region_code) == 5 and self.region_code.isdigit()):
            raise ValidationError({"region_code": _("행정표준코드는 숫자 5자리입니다.")})

    @property
    def is_education_office(self) -> bool:
        return self.kind in EDUCATION_OFFICE_KINDS

    def education_offices_above(self) -> list["Organization"]:
        """This organisation's chain of education offices, nearest first (school → district →
        provincial). An agreement made by any of them covers this organisation."""
        chain, node = [], self
        while node is not None:
            if node.is_education_office:
                chain.append(node)
            node = node.parent
        return chain


class AgreementQuerySet(models.QuerySet):
    def active_on(self, day: date | None = None):
        day = day or today()
        return self.filter(valid_from__lte=day).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )


class Agreement(models.Model):
    """정보공유 협약 between an education office and a partner (Decree 15④⑤): agreed in advance,
    it names the security officer, the packet fields the partner may receive and the retention."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        Organization,
        verbose_name=_("교육청"),
        on_delete=models.PROTECT,
        related_name="agreements_as_office",
        limit_choices_to={"kind__in": EDUCATION_OFFICE_KINDS},
    )
    partner = models.ForeignKey(
        Organization,
        verbose_name=_("협력기관"),
        on_delete=models.PROTECT,
        related_name="agreements_as_partner",
    )
    title = models.CharField(_("협약명"), max_length=200, blank=True)
    valid_from = models.DateField(_("효력 시작일"))
    valid_until = models.DateField(_("효력 종료일"), null=True, blank=True)
    security_officer_name = models.CharField(_("정보보호 책임자"), max_length=100)
    allowed_fields = models.JSONField(
        _("공유 허용 항목"),
        default=list,
        blank=True,
        help_text=_("의뢰 시 협력기관이 받을 수 있는 항목 코드 목록"),
    )
    retention_days = models.PositiveIntegerField(_("의뢰 종료 후 보관 기간(일)"), default=365)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("정보공유 협약")
        verbose_name_plural = _("정보공유 협약")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="agreement_valid_range",
            ),
        ]

    def __str__(self):
        return f"{self.office} ↔ {self.partner}"

    def clean(self):
        unknown = set(self.allowed_fields or []) - set(field_codes())
        if unknown:
            raise ValidationError(
                {"allowed_fields": _("알 수 없는 항목: %s") % ", ".join(sorted(unknown))}
            )
        if self.office_id and not self.office.is_education_office:
            raise ValidationError({"office": _("협약의 한쪽은 교육청이어야 합니다.")})

    def is_active(self, day: date | None = None) -> bool:
        day = day or today()
        return self.valid_from <= day and (self.valid_until is None or self.valid_until >= day)

    @property
    def allows_sensitive(self) -> bool:
        return bool(set(self.allowed_fields or []) & sensitive_field_codes())


class Service(models.Model):
    """A directory entry, aligned with Open Referral HSDS (service + location + eligibility)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, verbose_name=_("제공 기관"), on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(_("서비스명"), max_length=200)
    description = models.TextField(_("설명"), blank=True)
    # Lists of codes (partners.choices.Domain / SupportType / SchoolLevel, language tags).
    domains = models.JSONField(_("지원 영역"), default=list, blank=True)
    support_types = models.JSONField(_("지원 유형"), default=list, blank=True)
    eligibility = models.TextField(_("이용 대상"), blank=True)
    school_levels = models.JSONField(_("학교급"), default=list, blank=True)
    min_age = models.PositiveSmallIntegerField(_("최소 연령"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("최대 연령"), null=True, blank=True)
    boroughs = models.ManyToManyField(
        Organization,
        verbose_name=_("서비스 지역"),
        blank=True,
        related_name="services_here",
        limit_choices_to={"kind": OrganizationKind.LOCAL_GOVERNMENT},
    )
    intake_status = models.CharField(
        _("접수 상태"), max_length=20, choices=IntakeStatus.choices, default=IntakeStatus.ACCEPTING
    )
    contact_phone = models.CharField(_("연락처"), max_length=40, blank=True)
    contact_email = models.EmailField(_("이메일"), blank=True)
    url = models.URLField(_("안내 페이지"), blank=True)
    languages = models.JSONField(_("제공 언어"), default=list, blank=True)
    cost = models.CharField(_("비용"), max_length=200, blank=True, default="무료")
    active = models.BooleanField(_("운영 중"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[boroughs])

    class Meta:
        verbose_name = _("서비스")
        verbose_name_plural = _("서비스")
        ordering = ["organization__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_age__isnull=True)
                | Q(max_age__isnull=True)
                | Q(max_age__gte=models.F("min_age")),
                name="service_age_range",
            ),
        ]

    def __str__(self):
        return f"{self.organization} · {self.name}"


class User(AbstractUser):
    """One account per person (PIPA). Users are deactivated, never deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("이름"), max_length=100, help_text=_("한국어 성명, 한 칸에"))
    phone = models.CharField(_("전화"), max_length=40, blank=True)
    first_name = None
    last_name = None

    # The password hash and last_login are not history: one is a secret, the other noise.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])
    objects = UserManager()

    REQUIRED_FIELDS = ["email", "name"]

    class Meta:
        verbose_name = _("사용자")
        verbose_name_plural = _("사용자")
        ordering = ["username"]

    def __str__(self):
        return self.name or self.username

    def get_full_name(self):
        return self.name

    def get_short_name(self):
        return self.name


class RoleGroup(models.Model):
    """The Django group that stands for one role at one organisation, so a grant to a role is one
    row in guardian's group permission tables."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="role")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="role_groups"
    )
    role = models.CharField(max_length=30, choices=Role.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("역할 그룹")
        verbose_name_plural = _("역할 그룹")
        constraints = [
            models.UniqueConstraint(fields=["organization", "role"], name="rolegroup_unique_role")
        ]

    def __str__(self):
        return self.group.name

    @staticmethod
    def group_name(organization: Organization, role: str) -> str:
        return f"{organization.code}:{role}"


def role_group(organization: Organization, role: str) -> Group:
    """The group standing for `role` at `organization`, created on first use."""
    existing = (
        RoleGroup.objects.select_related("group")
        .filter(organization=organization, role=role)
        .first()
    )
    if existing:
        return existing.group
    with transaction.atomic():
        group, _created = Group.objects.get_or_create(name=RoleGroup.group_name(organization, role))
        RoleGroup.objects.get_or_create(
            organization=organization, role=role, defaults={"group": group}
        )
    return group


def training_cutoff(day: date) -> date | None:
    """The oldest security training that still counts on `day` (Decree 15⑥: yearly), or None
    when `SECURITY_TRAINING_DAYS` is 0 and training gates nothing."""
    days = settings.SECURITY_TRAINING_DAYS
    return day - timedelta(days=days) if days else None


# What a membership grants: the access-rights register keeps every change of these fields.
REGISTER_FIELDS = (
    "organization",
    "role",
    "title",
    "active",
    "started_on",
    "ended_on",
    "approved_by",
    "approved_on",
    "approval_expires_on",
    "training_completed_on",
)
REGISTER_ATTNAMES = tuple(
    f"{name}_id" if name in ("organization", "approved_by") else name for name in REGISTER_FIELDS
)
SELF_APPROVAL = _("자기 자신의 소속은 취급 승인할 수 없습니다. 다른 사람이 승인해야 합니다.")


class MembershipQuerySet(models.QuerySet):
    def current(self, day: date | None = None):
        """Memberships that grant access on `day` (DESIGN.md §2): active, between `started_on`
        and `ended_on`, holding a data-handling approval valid that day (Art. 17⑦) and security
        training within `SECURITY_TRAINING_DAYS` (Decree 15⑥). `Membership.is_current` and the
        access SQL (casework/access/sql.py) say the same; tests/casework/access/test_access.py holds
        the three together."""
        day = day or today()
        rows = self.filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=day),
            active=True,
            started_on__lte=day,
            approved_on__isnull=False,
            approved_on__lte=day,
            approval_expires_on__gte=day,
        )
        cutoff = training_cutoff(day)
        if cutoff is not None:
            rows = rows.filter(training_completed_on__gte=cutoff)
        return rows


class Membership(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        User, verbose_name=_("사용자"), on_delete=models.PROTECT, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("기관"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("역할"), max_length=30, choices=Role.choices)
    title = models.CharField(_("직위·직무"), max_length=100, blank=True)
    group = models.ForeignKey(
        Group, on_delete=models.PROTECT, related_name="memberships", editable=False
    )
    active = models.BooleanField(_("재직 중"), default=True)
    started_on = models.DateField(_("시작일"), default=today)
    ended_on = models.DateField(_("종료일"), null=True, blank=True)
    # 개인정보 취급승인 (Art. 17⑦): granted by the head of the institution, renewed yearly.
    approved_by = models.ForeignKey(
        User,
        verbose_name=_("취급 승인자"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approvals_given",
    )
    approved_on = models.DateField(_("취급 승인일"), null=True, blank=True)
    approval_expires_on = models.DateField(_("취급 승인 만료일"), null=True, blank=True)
    training_completed_on = models.DateField(_("보안 교육 이수일"), null=True, blank=True)

    history = HistoricalRecords()
    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("소속")
        verbose_name_plural = _("소속")
        ordering = ["organization__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"], name="membership_unique_role"
            ),
            models.CheckConstraint(
                condition=Q(approved_on__isnull=True)
                | Q(approval_expires_on__gte=models.F("approved_on")),
                name="membership_approval_range",
            ),
            # Nobody approves their own membership (DESIGN.md §2).
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("user")),
                name="membership_not_self_approved",
            ),
        ]
        indexes = [models.Index(fields=["user", "active", "approval_expires_on"])]

    def __str__(self):
        return f"{self.user} · {self.organization} · {self.get_role_display()}"

    def save(self, *args, **kwargs):
        self.group = role_group(self.organization, self.role)  # part of the membership's identity
        super().save(*args, **kwargs)

    def clean(self):
        if self.organization_id and self.role:
            allowed = ROLES_BY_KIND.get(self.organization.kind, set())
            if self.role not in allowed:
                raise ValidationError({"role": _("이 기관 유형에는 해당 역할을 둘 수 없습니다.")})
        if self.approved_on and not self.approval_expires_on:
            raise ValidationError(
                {"approval_expires_on": _("취급 승인에는 만료일이 있어야 합니다.")}
            )
        if self.approved_by_id and self.approved_by_id == self.user_id:
            raise ValidationError(SELF_APPROVAL)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # What the access-rights register compares the next save with (partners/register.py).
        instance._register_loaded = dict(zip(field_names, values, strict=True))
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self.remember_register_values()

    def remember_register_values(self) -> None:
        self._register_loaded = {
            a: self.__dict__[a] for a in REGISTER_ATTNAMES if a in self.__dict__
        }

    def register_values(self, loaded: dict | None = None) -> dict:
        """The values the access-rights register keeps, as JSON, now or as `loaded` (fields
        not loaded are left out)."""
        source = self.__dict__ if loaded is None else loaded
        values = {}
        for name, attname in zip(REGISTER_FIELDS, REGISTER_ATTNAMES, strict=True):
            if attname in source:
                value = source[attname]
                values[name] = value if value is None or isinstance(value, bool) else str(value)
        return values

    def is_current(self, day: date | None = None) -> bool:
        day = day or today()
        cutoff = training_cutoff(day)
        return bool(
            self.active
            and self.started_on
            and self.started_on <= day
            and (self.ended_on is None or self.ended_on >= day)
            and self.approved_on
            and self.approved_on <= day
            and self.approval_expires_on
            and self.approval_expires_on >= day
            and (
                cutoff is None
                or (self.training_completed_on and self.training_completed_on >= cutoff)
            )
        )

    @property
    def training_due_on(self) -> date | None:
        """The last day the recorded security training counts, or None if none is recorded
        (or training gates nothing)."""
        days = settings.SECURITY_TRAINING_DAYS
        if not days or not self.training_completed_on:
            return None
        return self.training_completed_on + timedelta(days=days)

    @property
    def training_days_left(self) -> int | None:
        due = self.training_due_on
        return None if due is None else (due - today()).days

    @property
    def approval_days_left(self) -> int | None:
        if not self.approval_expires_on:
            return None
        return (self.approval_expires_on - today()).days


class AccessRightRecord(models.Model):
    """접근권한 관리대장: one row per grant, change or revocation of a membership or of its
    data-handling approval (PIPA 안전성 확보조치 기준 제5조), written by partners/register.py on
    every save and delete of a membership. Kept at least three years: nothing deletes a row (no
    delete permission exists, and no purge job touches this table)."""

    class Kind(models.TextChoices):
        GRANTED = "granted", _("소속 부여")
        APPROVAL_GIVEN = "approval_given", _("취급 승인")
        APPROVAL_RENEWED = "approval_renewed", _("취급 승인 갱신")
        APPROVAL_WITHDRAWN = "approval_withdrawn", _("취급 승인 철회")
        ROLE_CHANGED = "role_changed", _("역할 변경")
        CHANGED = "changed", _("소속 정보 변경")
        ENDED = "ended", _("소속 종료")
        REOPENED = "reopened", _("소속 재개")
        REVOKED = "revoked", _("소속 삭제")

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("일시"), default=timezone.now, db_index=True)
    kind = models.CharField(_("구분"), max_length=30, choices=Kind.choices)
    # The membership's id, not a foreign key: the row outlives a deleted membership.
    membership_id = models.UUIDField(_("소속 ID"), db_index=True)
    user = models.ForeignKey(
        User, verbose_name=_("대상자"), on_delete=models.PROTECT, related_name="access_rights"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("기관"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("역할"), max_length=30, choices=Role.choices)
    by = models.ForeignKey(
        User,
        verbose_name=_("처리자"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_rights_recorded",
    )
    changes = models.JSONField(_("변경 내용"), default=dict, help_text=_("항목별 [이전 값, 새 값]"))
    reason = models.CharField(_("사유"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("접근권한 기록")
        verbose_name_plural = _("접근권한 관리대장")
        ordering = ["-at", "-id"]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} · {self.user} · {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("접근권한 관리대장의 기록은 고칠 수 없습니다."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("접근권한 관리대장의 기록은 지울 수 없습니다."))


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A bearer token for the API. Only the SHA-256 of the key is stored; the key is shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    # Issue and revocation are access-rights records (kept 3 years); use times are noise.
    history = HistoricalRecords(excluded_fields=["key_hash", "last_used_at"])
    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 토큰")
        verbose_name_plural = _("API 토큰")
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User) -> tuple["ApiToken", str]:
        key = secrets.token_urlsafe(32)
        token = cls(
            user=user,
            key_hash=cls.hash_key(key),
            prefix=key[:8],
            expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_HOURS),
        )
        token._history_user = user
        token.save()
        return token, key


class LoginThrottle(models.Model):
    """Failed logins per username, counted in the database so every process sees the same count
    (PIPA safeguards: login limited after repeated failures). Unknown usernames are counted too,
    so the lock reveals nothing about which accounts exist."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("로그인 실패 기록")
        verbose_name_plural = _("로그인 실패 기록")

    def __str__(self):
        return f"{self.username}: {self.failures}"


class SecondFactorEvent(models.Model):
    """Enrolment and removal of a person's second factor and of its recovery codes, and each use
    of a recovery code (DESIGN.md §9). A factor is part of the person's access rights, so like
    the access-rights register these rows are kept at least three years and never changed:
    django-otp's own device rows are deleted on removal and keep no history."""

    class Kind(models.TextChoices):
        ENROLLED = "enrolled", _("2단계 인증 등록")
        REMOVED = "removed", _("2단계 인증 해제")
        RECOVERY_CODES_ISSUED = "recovery_codes_issued", _("복구 코드 발급")
        RECOVERY_CODE_USED = "recovery_code_used", _("복구 코드 사용")
        PASSKEY_ADDED = "passkey_added", _("패스키 등록")
        PASSKEY_REMOVED = "passkey_removed", _("패스키 삭제")

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("일시"), default=timezone.now, db_index=True)
    kind = models.CharField(_("구분"), max_length=30, choices=Kind.choices)
    user = models.ForeignKey(
        User,
        verbose_name=_("대상자"),
        on_delete=models.PROTECT,
        related_name="second_factor_events",
    )
    by = models.ForeignKey(
        User,
        verbose_name=_("처리자"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("사유"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("2단계 인증 기록")
        verbose_name_plural = _("2단계 인증 기록")
        ordering = ["-at", "-id"]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} · {self.user} · {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("2단계 인증 기록은 고칠 수 없습니다."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("2단계 인증 기록은 지울 수 없습니다."))


class Passkey(TimestampMixin, Device):
    """A passkey (WebAuthn credential) of a person: a second factor held by their phone, laptop
    or security key, which proves itself by signing a fresh challenge with a private key that
    never leaves it (DESIGN.md §9). Ieum keeps the public key and the signature counter only.

    It is a django-otp device so that a session signed in with it is verified like one signed
    in with a code; its enrolment and removal are SecondFactorEvents, as for the other factors."""

    credential_id = models.BinaryField(_("자격 증명 ID"), unique=True, editable=False)
    public_key = models.BinaryField(_("공개 키"), editable=False)
    sign_count = models.PositiveBigIntegerField(_("서명 횟수"), default=0)
    transports = models.JSONField(_("연결 방식"), default=list, blank=True)
    backed_up = models.BooleanField(_("여러 기기에 동기화됨"), default=False)

    # Who added, renamed or removed which passkey; the key material and counters stay out.
    history = HistoricalRecords(
        excluded_fields=["credential_id", "public_key", "sign_count", "last_used_at"]
    )

    class Meta:
        verbose_name = _("패스키")
        verbose_name_plural = _("패스키")
        ordering = ["created_at", "id"]
