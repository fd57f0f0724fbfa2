"""Who may answer a subject-access request (PIPA 35조) for a student, and what it may include.

The owner school's coordinator, who keeps the student's records, and the privacy officer of the
provincial office above the school. The answer holds everything Ieum has on the student; notes
are the ones the requester may read: the coordinator's own reach, and for the privacy officer
every note but the restricted ones (DESIGN.md §3 Note: restricted notes stay with their readers).
"""

from django.db.models import QuerySet
from django.http import Http404

from casework.models import Note, Student
from partners.models import User

from . import roles as r
from .capabilities import holds_role
from .oversight import oversees_organization
from .sql import signed_in
from .visibility import visible_notes


def keeps_student_records(user: User, student: Student) -> bool:
    """Whether the user keeps the student's records at the student's school (its coordinator)."""
    return signed_in(user) and holds_role(user, student.school_id, r.SUBJECT_ACCESS_ROLES)


def may_answer_subject_access(user: User, student: Student) -> bool:
    if not signed_in(user):
        return False
    if keeps_student_records(user, student):
        return True
    return oversees_organization(user, student.school_id)


def get_subject_access_student_or_404(user: User, pk) -> Student:
    """The student whose records the user may produce, or 404 (no existence leaks)."""
    try:
        student = Student.objects.select_related("school", "home_borough").get(pk=pk)
    except (Student.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not may_answer_subject_access(user, student):
        raise Http404
    return student


def subject_access_notes(user: User, student: Student) -> QuerySet[Note]:
    """The notes of the student's cases that the answer includes for `user`."""
    if keeps_student_records(user, student):
        return visible_notes(user).filter(case__student=student)
    return Note.objects.filter(case__student=student).exclude(
        confidentiality=Note.Confidentiality.RESTRICTED
    )
