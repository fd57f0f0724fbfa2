"""`seed_scale` on the tiny tier: consistent data, grants as the workflows would write them, an
intact access-log chain — so the figures of bench/ are measured on data the app can really use."""

import uuid
from datetime import date

import pytest
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from casework import access, audit, bulk, scale
from casework.models import (
    Case,
    CaseGroupObjectPermission,
    Guardian,
    Note,
    Referral,
    ReferralGroupObjectPermission,
    Student,
)
from partners.models import Membership, User
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def tiny(world):
    result = scale.seed("tiny", password="bench-pass")
    return world, result


def test_every_row_hangs_together(tiny):
    _world, result = tiny
    assert result.counts["casework_case"] == 70 and result.counts["casework_referral"] == 60
    assert not Case.objects.filter(student__isnull=True).exists()
    assert not Referral.objects.filter(case__isnull=True).exists()
    assert not Case.objects.exclude(owner_id=models_student_school()).exists()
    open_per_student = (
        Case.objects.exclude(status__in=["closed", "not_selected"])
        .values("student")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not open_per_student.exists()
    assert not Case.objects.filter(status="closed", closure_reason="").exists()
    # Every row has its creation in history.
    assert Case.history.filter(history_type="+").count() == Case.objects.count()
    assert Student.history.count() >= Student.objects.filter(school__code__startswith="SC-").count()


def models_student_school():
    from django.db.models import OuterRef, Subquery

    return Subquery(Student.objects.filter(pk=OuterRef("student_id")).values("school_id"))


def test_grants_match_the_workflows(tiny):
    _world, _result = tiny
    case = Case.objects.filter(status="active", lead_id=models_owner()).first()
    school = case.owner
    coordinator = User.objects.get(username=f"{school.code.lower()}.coordinator")
    vice = User.objects.get(username=f"{school.code.lower()}.vice_principal")
    teacher = User.objects.get(username=f"{school.code.lower()}.teacher.1")
    assert access.has_case_perm(coordinator, access.MANAGE_CASE, case)
    assert access.has_case_perm(vice, access.VIEW_CASE, case)
    assert not access.has_case_perm(vice, access.MANAGE_CASE, case)
    assert not access.visible_cases(teacher).exists()
    per_case = CaseGroupObjectPermission.objects.values("content_object").annotate(n=Count("id"))
    assert {row["n"] for row in per_case} <= {8, 12}  # owner school; + lead office
    escalated = Case.objects.exclude(lead_id=models_owner()).first()
    if escalated is not None:
        manager = User.objects.filter(
            memberships__organization=escalated.lead, memberships__role="case_manager"
        ).first()
        assert access.has_case_perm(manager, access.CHANGE_CASE, escalated)
        restricted = Note.objects.filter(case=escalated, confidentiality="restricted")
        assert not access.visible_notes(manager, escalated).filter(pk__in=restricted).exists()
    referral = Referral.objects.filter(kind="service").exclude(status="draft").first()
    worker = (
        Membership.objects.filter(organization=referral.to_organization, role="partner_worker")
        .first()
        .user
    )
    assert access.received_referrals(worker).filter(pk=referral.pk).exists()
    assert not access.visible_cases(worker).exists()
    assert not ReferralGroupObjectPermission.objects.filter(content_object__status="draft").exists()


def models_owner():
    from django.db.models import F

    return F("owner_id")


def test_access_log_chain_is_intact(tiny):
    checked, problems = audit.verify_chain()
    assert checked >= 300 and problems == []


def test_bench_accounts_sign_in(tiny, client):
    school = Case.objects.first().owner
    assert client.login(username=f"{school.code.lower()}.coordinator", password="bench-pass")


def test_command_is_idempotent(world, capsys):
    call_command("seed_scale", "--tier", "tiny")
    call_command("seed_scale", "--tier", "tiny")
    out = capsys.readouterr().out
    assert "rows/s" in out and "already loaded" in out
    assert Case.objects.filter(~Q(owner__code__startswith="SC-")).count() == 0


# --- The COPY and SQL history helpers of the roster import --------------------------------


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
