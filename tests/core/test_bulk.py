"""The COPY and SQL history helpers (core.bulk) that the roster import and seed_scale write
with: the rows and history rows simple-history's own bulk helpers write."""

import uuid
from datetime import date

import pytest
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from casework.models import Guardian, Student
from core import bulk
from partners.models import User
from tests import factories

pytestmark = pytest.mark.django_db


def values_of(record, *, skip=()) -> dict:
    return {
        f.attname: getattr(record, f.attname)
        for f in record._meta.concrete_fields
        if f.attname not in {"history_id", *skip}
    }


def test_copied_and_updated_rows_get_the_history_simple_history_writes(world):
    by, reason = world["coordinator"], "명부 가져오기"
    fields = {
        "school_id": world.school.pk,
        "name": "가람",
        "birth_date": date(2016, 3, 5),
        "sex": "female",
        "grade": 4,
        "class_no": 2,
        "number": 1,
        "neis_id": "H1",
        "home_borough_id": world.borough.pk,
    }
    # The reference: simple-history's own bulk helpers.
    [theirs] = bulk_create_with_history(
        [Student(**fields)], Student, default_user=by, default_change_reason=reason
    )
    theirs.grade, theirs.updated_at = 5, timezone.now()
    bulk_update_with_history(
        [theirs], Student, ["grade", "updated_at"], default_user=by, default_change_reason=reason
    )
    ours = uuid.uuid4()
    row = (ours, *{**fields, "neis_id": "H2"}.values())
    bulk.copy_rows_with_history(Student, ["id", *fields], [row], by=by, reason=reason)
    # None keeps the stored value.
    bulk.update_rows_with_history(
        Student, ["grade", "class_no"], [(ours, 5, None)], by=by, reason=reason
    )

    differ = ("id", "neis_id", "created_at", "updated_at", "history_date")
    theirs_history = Student.history.filter(id=theirs.pk).order_by("history_id")
    ours_history = list(Student.history.filter(id=ours).order_by("history_id"))
    assert [values_of(h, skip=differ) for h in ours_history] == [
        values_of(h, skip=differ) for h in theirs_history
    ]
    plus, tilde = ours_history
    assert (plus.history_type, tilde.history_type) == ("+", "~")
    assert (tilde.history_user, tilde.history_change_reason) == (by, reason)
    # Each history row is the row as written, when it was written.
    student = Student.objects.get(pk=ours)
    assert (student.grade, student.class_no) == (5, 2)
    assert plus.history_date == plus.created_at == plus.updated_at == student.created_at
    assert tilde.history_date == student.updated_at > student.created_at
    tracked = [f.attname for f in Student.history.model.tracked_fields]
    assert {n: getattr(tilde, n) for n in tracked} == {n: getattr(student, n) for n in tracked}


def test_history_written_in_sql_leaves_out_excluded_fields(world):
    by = world["coordinator"]
    pk = uuid.uuid4()
    names = ["id", "username", "name", "email", "password"]
    bulk.copy_rows_with_history(
        User, names, [(pk, "copied", "복사", "c@example.com", "!unusable")], by=by, reason="r"
    )
    bulk.update_rows_with_history(User, ["name"], [(pk, "새 이름")], by=by, reason="r")
    user = User.objects.get(pk=pk)
    assert user.password == "!unusable" and user.is_active and user.last_login is None
    plus, tilde = User.history.filter(id=pk).order_by("history_id")
    assert (plus.name, tilde.name, tilde.history_type) == ("복사", "새 이름", "~")
    assert not hasattr(plus, "password") and not hasattr(tilde, "last_login")
    tracked = [f.attname for f in User.history.model.tracked_fields]
    assert {n: getattr(tilde, n) for n in tracked} == {n: getattr(user, n) for n in tracked}


def test_sql_history_follows_the_history_switch(world, settings):
    settings.SIMPLE_HISTORY_ENABLED = False
    pk = uuid.uuid4()
    bulk.copy_rows_with_history(
        Guardian, ["id", "student_id", "name", "relation"], [(pk, student_of(world), "가", "모")]
    )
    bulk.update_rows_with_history(Guardian, ["phone"], [(pk, "010-1234-5678")])
    assert Guardian.objects.get(pk=pk).phone == "010-1234-5678"
    assert not Guardian.history.filter(id=pk).exists()


def student_of(world):
    return factories.StudentFactory(school=world.school).pk
