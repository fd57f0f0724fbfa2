"""The case team: people assigned to work a case, with their case role."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access
from casework.choices import TeamRole
from casework.models import Case, CaseMember
from casework.notify import notify
from partners.models import User

from .common import attribute, require_case_perm
from .errors import GuardFailed


@transaction.atomic
def add_team_member(case: Case, *, by: User, user: User, role: str) -> CaseMember:
    """Add a person to the case team in a case role that fits their organisation (the owner
    school's staff take the school's roles; a lead office's members join as case manager).
    Restricted notes open only to a counsellor who is staff of the owner school."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    require_case_perm(by, access.MANAGE_CASE, case)
    if role not in TeamRole.values:
        raise ValidationError({"role": _("알 수 없는 팀 역할입니다.")})
    if not (access.is_member_of(user, case.owner_id) or access.is_member_of(user, case.lead_id)):
        raise ValidationError(
            {
                "user": _(
                    "사례를 맡은 기관에 소속되어 개인정보 취급승인을 받은 사람만 팀원이 될 수 있습니다."
                )
            }
        )
    if not access.team_role_fits(user, case, role):
        raise ValidationError(
            {
                "role": _(
                    "이 사람의 소속에 맞지 않는 팀 역할입니다. 교육지원청 직원은 사례관리자로, "
                    "상담교사 역할은 학교 교직원만 맡을 수 있습니다."
                )
            }
        )
    if CaseMember.objects.filter(case=case, user=user, removed_at__isnull=True).exists():
        raise GuardFailed(_("이미 사례 팀원입니다."))
    member = CaseMember(case=case, user=user, role=role, added_by=by)
    attribute(member, by, gettext_noop("팀원 추가"))
    member.save()
    access.grant_to_user(
        case, user, access.team_grants(role, owner_staff=access.is_owner_staff(user, case))
    )
    notify(
        [user],
        kind="team_added",
        params={"name": case.student.name, "number": case.number},
        case=case,
        url=f"/casework/cases/{case.pk}/",
        exclude=by,
    )
    return member


@transaction.atomic
def remove_team_member(case: Case, *, by: User, user: User) -> None:
    require_case_perm(by, access.MANAGE_CASE, case)
    # Locked: of two removals at once, the second finds the member gone (409).
    member = (
        CaseMember.objects.select_for_update(of=("self",))
        .filter(case=case, user=user, removed_at__isnull=True)
        .first()
    )
    if member is None:
        raise GuardFailed(_("사례 팀원이 아닙니다."))
    member.removed_at = timezone.now()
    attribute(member, by, gettext_noop("팀원 제외"))
    member.save()
    access.revoke_from_user(case, user)
