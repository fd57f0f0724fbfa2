"""Who imports a school's indicators, sets its thresholds and reads screening levels
(DESIGN.md §11, docs/discovery.md).

The coordinator (학생맞춤통합지원 담당자) imports the school's indicator files and tightens its
thresholds. 학생정서·행동특성검사 levels are health data (Decree 17): only the coordinator and the
school's counsellors (지원팀 교원) read them; everyone else sees that a result needs checking.
"""

from django.utils.translation import gettext as _

from casework.models import ScreeningResult
from partners.choices import Role
from partners.models import Organization, User

from .capabilities import holds_role, organizations_where

INDICATOR_KEEPER_ROLES = (Role.COORDINATOR,)
SCREENING_READER_ROLES = (Role.COORDINATOR, Role.TEAM_MEMBER)


def keeps_indicators(user: User, school: Organization) -> bool:
    """Imports the school's indicator files and sets its thresholds (its coordinator)."""
    return holds_role(user, school.pk, INDICATOR_KEEPER_ROLES)


def indicator_schools(user: User) -> list[Organization]:
    """The schools whose indicators the user keeps."""
    return organizations_where(user, INDICATOR_KEEPER_ROLES)


def reads_screening_levels(user: User, school: Organization | None) -> bool:
    return school is not None and holds_role(user, school.pk, SCREENING_READER_ROLES)


def screening_level_shown(user: User, result: ScreeningResult) -> str:
    """The level's label for those who may read it, "검사 결과 확인 필요" for everyone else."""
    if holds_role(user, result.school_id, SCREENING_READER_ROLES):
        return str(result.get_level_display())
    return _("검사 결과 확인 필요")
