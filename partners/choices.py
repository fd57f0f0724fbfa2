"""Enumerations of the network (DESIGN.md §2). One definition per concept."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationKind(models.TextChoices):
    MINISTRY = "ministry", _("교육부")
    PROVINCIAL_OFFICE = "provincial_office", _("시·도교육청")
    DISTRICT_OFFICE = "district_office", _("교육지원청")
    SCHOOL = "school", _("학교")
    LOCAL_GOVERNMENT = "local_government", _("자치구·시군구")
    COMMUNITY_CENTER = "community_center", _("행정복지센터")
    PARTNER_AGENCY = "partner_agency", _("협력기관")
    CONTRACTED_AGENCY = "contracted_agency", _("위탁기관")


EDUCATION_OFFICE_KINDS = (OrganizationKind.PROVINCIAL_OFFICE, OrganizationKind.DISTRICT_OFFICE)
# Organisations outside the education system: a referral to them needs an Agreement.
PARTNER_KINDS = (
    OrganizationKind.LOCAL_GOVERNMENT,
    OrganizationKind.COMMUNITY_CENTER,
    OrganizationKind.PARTNER_AGENCY,
    OrganizationKind.CONTRACTED_AGENCY,
)


class AgencyType(models.TextChoices):
    YOUTH_COUNSELLING = "youth_counselling", _("청소년상담복지센터")
    MENTAL_HEALTH = "mental_health", _("정신건강복지센터")
    CHILD_PROTECTION = "child_protection", _("아동보호전문기관")
    DREAM_START = "dream_start", _("드림스타트")
    COMMUNITY_CHILD = "community_child", _("지역아동센터")
    WELFARE_CENTER = "welfare_center", _("사회복지관")
    POLICE = "police", _("경찰서")
    MEDICAL = "medical", _("의료기관")
    NGO = "ngo", _("비영리단체")
    OTHER = "other", _("기타")


class SchoolLevel(models.TextChoices):
    ELEMENTARY = "elementary", _("초등학교")
    MIDDLE = "middle", _("중학교")
    HIGH = "high", _("고등학교")
    SPECIAL = "special", _("특수학교")
    OTHER = "other", _("기타 학교")


class Role(models.TextChoices):
    TEACHER = "teacher", _("교사")
    TEAM_MEMBER = "team_member", _("지원팀 교원")
    COORDINATOR = "coordinator", _("학생맞춤통합지원 담당자")
    VICE_PRINCIPAL = "vice_principal", _("교감")
    PRINCIPAL = "principal", _("교장")
    CASE_MANAGER = "case_manager", _("사례관리자")
    CENTRE_HEAD = "centre_head", _("센터장")
    ANALYST = "analyst", _("통계 분석 담당자")
    PRIVACY_OFFICER = "privacy_officer", _("개인정보 보호책임자")
    PARTNER_WORKER = "partner_worker", _("협력기관 담당자")
    PARTNER_LEAD = "partner_lead", _("협력기관 책임자")


# Which roles exist in which kind of organisation (DESIGN.md §2, roles table).
ROLES_BY_KIND = {
    OrganizationKind.SCHOOL: {
        Role.TEACHER,
        Role.TEAM_MEMBER,
        Role.COORDINATOR,
        Role.VICE_PRINCIPAL,
        Role.PRINCIPAL,
    },
    OrganizationKind.DISTRICT_OFFICE: {Role.CASE_MANAGER, Role.CENTRE_HEAD},
    OrganizationKind.PROVINCIAL_OFFICE: {
        Role.ANALYST,
        Role.PRIVACY_OFFICER,
        # Sejong has no district office: its provincial office runs the support centre itself.
        Role.CASE_MANAGER,
        Role.CENTRE_HEAD,
    },
    OrganizationKind.PARTNER_AGENCY: {Role.PARTNER_WORKER, Role.PARTNER_LEAD},
    OrganizationKind.LOCAL_GOVERNMENT: {Role.PARTNER_WORKER, Role.PARTNER_LEAD},
    OrganizationKind.COMMUNITY_CENTER: {Role.PARTNER_WORKER, Role.PARTNER_LEAD},
    OrganizationKind.CONTRACTED_AGENCY: {Role.PARTNER_WORKER, Role.PARTNER_LEAD},
    OrganizationKind.MINISTRY: {Role.ANALYST},
}


class Domain(models.TextChoices):
    LEARNING = "learning", _("학습")
    WELFARE = "welfare", _("복지")
    HEALTH = "health", _("건강")
    CAREER = "career", _("진로")
    COUNSELLING = "counselling", _("상담")


class SupportType(models.TextChoices):
    """Act Art. 11① support types."""

    EDUCATION_COST = "education_cost", _("교육비 지원")
    COUNSELLING = "counselling", _("상담 지원")
    LEARNING_DIFFICULTY = "learning_difficulty", _("학습부진 지원")
    MULTICULTURAL = "multicultural", _("다문화학생 지원")
    SPECIAL_EDUCATION = "special_education", _("특수교육 지원")
    BASIC_LEARNING = "basic_learning", _("기초학력 지원")
    EMERGENCY_WELFARE = "emergency_welfare", _("긴급복지 지원")
    CAREER_COUNSELLING = "career_counselling", _("진로상담 지원")
    HEALTH_SAFETY = "health_safety", _("건강·안전 지원")
    WELFARE_MEDICAL = "welfare_medical", _("복지·의료 지원")
    VIOLENCE_VICTIM_PROTECTION = "violence_victim_protection", _("학교폭력 피해학생 보호")
    OTHER = "other", _("기타")


class IntakeStatus(models.TextChoices):
    ACCEPTING = "accepting", _("접수 중")
    WAITLIST = "waitlist", _("대기")
    CLOSED = "closed", _("접수 마감")
