"""Casework codes (DESIGN.md §3 "Codes"). Stable codes for the API; labels are translated.

Domains and support types are defined once in partners.choices (services use them too).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from partners.choices import Domain, SupportType  # noqa: F401  (re-exported: one definition)


class Difficulty(models.TextChoices):
    BASIC_LEARNING = "basic_learning", _("기초학력")
    ECONOMIC = "economic", _("경제적 어려움")
    PSYCHOLOGICAL = "psychological", _("심리·정서")
    SCHOOL_VIOLENCE = "school_violence", _("학교폭력")
    BORDERLINE_INTELLIGENCE = "borderline_intelligence", _("경계선 지능")
    CHILD_ABUSE = "child_abuse", _("아동학대·방임")
    HEALTH = "health", _("건강")
    CARE_SAFETY = "care_safety", _("돌봄·안전")
    DROPOUT_RISK = "dropout_risk", _("학업중단 위기")
    MIGRANT_BACKGROUND = "migrant_background", _("이주배경 적응")
    OTHER = "other", _("기타")


class RiskLevel(models.TextChoices):
    """Ordered from lowest to highest; `RiskLevel.rank(code)` compares them."""

    WATCH = "watch", _("관심")
    CAUTION = "caution", _("주의")
    CRISIS = "crisis", _("위기")
    URGENT = "urgent", _("긴급")

    @classmethod
    def rank(cls, code: str) -> int:
        return cls.values.index(code)


class Urgency(models.TextChoices):
    NORMAL = "normal", _("보통")
    HIGH = "high", _("높음")
    URGENT = "urgent", _("긴급")


class Sex(models.TextChoices):
    MALE = "male", _("남")
    FEMALE = "female", _("여")


class TeamRole(models.TextChoices):
    COORDINATOR = "coordinator", _("담당자")
    HOMEROOM_TEACHER = "homeroom_teacher", _("담임교사")
    COUNSELLOR = "counsellor", _("상담교사")
    NURSE = "nurse", _("보건교사")
    WELFARE_WORKER = "welfare_worker", _("교육복지사")
    CASE_MANAGER = "case_manager", _("사례관리자")
    OTHER = "other", _("기타")


class ConsentSubject(models.TextChoices):
    STUDENT = "student", _("학생")
    GUARDIAN = "guardian", _("보호자")


class ConsentPurpose(models.TextChoices):
    SUPPORT = "support", _("지원 제공")
    SHARE_WITH_OFFICE = "share_with_office", _("교육지원청 정보 제공")
    SHARE_WITH_PARTNERS = "share_with_partners", _("협력기관 정보 제공")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("서면")
    ELECTRONIC = "electronic", _("전자")
    VERBAL_RECORDED = "verbal_recorded", _("구두(녹취)")


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("동의")
    CHILD_PROTECTION = "child_protection", _("아동보호")
    EMERGENCY = "emergency", _("긴급")


# What an access event read (AccessEvent.object_type), as the access-log pages name it; a code
# not listed here is shown as it is.
OBJECT_TYPE_LABELS = {
    "access_event": _("접속 기록"),
    "alert": _("외부 기관 알림"),
    "assessment": _("평가"),
    "case": _("사례"),
    "case_history": _("사례 이력"),
    "case_team": _("사례 팀"),
    "case_timeline": _("사례 경과"),
    "concern": _("지원 요청"),
    "consent": _("동의"),
    "district_dashboard": _("교육지원청 현황"),
    "export": _("내보낸 파일"),
    "job": _("작업"),
    "meeting": _("회의"),
    "note": _("기록"),
    "notification": _("알림"),
    "plan": _("지원 계획"),
    "referral": _("의뢰"),
    "referral_form": _("의뢰서"),
    "referral_message": _("의뢰 메시지"),
    "review_finding": _("점검 결과"),
    "student": _("학생"),
    "subject_access": _("열람 청구"),
    "support_plan": _("지원 계획"),
    "transfer": _("전학 이관"),
    "transfer_claim": _("전학 확인 요청"),
    "work_queue": _("할 일"),
}
