"""Adding a student to a school's roster by hand (imports are roster.py)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access
from casework.models import Guardian, Student
from partners.models import Organization, User

from .common import attribute


@transaction.atomic
def create_student(
    *, by: User, school: Organization, guardians: list[dict] | None = None, **fields
) -> Student:
    if not access.keeps_roster(by, school):
        raise PermissionDenied(_("학생은 학교의 담당자가 등록합니다."))
    neis_id = fields.get("neis_id") or ""
    if neis_id:
        # The school row is the lock: two registrations of one NEIS id at once queue here and
        # the second is refused (400), never a 500 from the unique index.
        Organization.objects.select_for_update().filter(pk=school.pk).first()
    if neis_id and Student.objects.filter(school=school, neis_id=neis_id).exists():
        raise ValidationError({"neis_id": _("같은 NEIS 식별번호의 학생이 이미 있습니다.")})
    student = Student(school=school, **fields)
    student.full_clean(exclude=["school"])
    attribute(student, by, gettext_noop("학생 등록"))
    student.save()
    for entry in guardians or []:
        guardian = Guardian(student=student, **entry)
        guardian.full_clean(exclude=["student"])
        attribute(guardian, by, gettext_noop("보호자 등록"))
        guardian.save()
    return student
