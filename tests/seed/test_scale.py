"""`seed_scale` on the tiny tier: consistent data, grants as the workflows would write them, an
intact access-log chain — so the figures of bench/ are measured on data the app can really use."""

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from casework import access, audit
from casework.models import (
    Case,
    CaseGroupObjectPermission,
    Note,
    Referral,
    ReferralGroupObjectPermission,
    Student,
)
from partners.models import Membership, User
from seed import scale
from tests.factories import CaseFactory, ReferralFactory

pytestmark = pytest.mark.django_db


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
    assert audit.partitions.stranded() == {}  # every month in its own table


def test_bench_accounts_sign_in(tiny, client):
    school = Case.objects.first().owner
    assert client.login(username=f"{school.code.lower()}.coordinator", password="bench-pass")


def test_command_is_idempotent(world, capsys):
    call_command("seed_scale", "--tier", "tiny")
    call_command("seed_scale", "--tier", "tiny")
    out = capsys.readouterr().out
    assert "rows/s" in out and "already loaded" in out
    assert Case.objects.filter(~Q(owner__code__startswith="SC-")).count() == 0


def _grant_rows(model, obj) -> set[tuple]:
    return set(model.objects.filter(content_object=obj).values_list("group", "permission"))


def test_bulk_grants_write_what_the_workflow_grants_write(world):
    """The scale seeder's grants (access.bulk_grant_*) are the rows the workflows write."""
    by_workflow, in_bulk = (CaseFactory(owner=world.school, lead=world.nambu) for _ in range(2))
    access.grant_case_to_owner_school(by_workflow)
    access.grant_case_to_lead_office(by_workflow, world.nambu)
    school_only = CaseFactory(owner=world.school)
    written = access.bulk_grant_cases(
        [(in_bulk.pk, world.school.pk, world.nambu.pk), (school_only.pk, world.school.pk, None)]
    )
    assert written == 12 + 8
    assert _grant_rows(CaseGroupObjectPermission, in_bulk) == _grant_rows(
        CaseGroupObjectPermission, by_workflow
    )
    owner_grants = _grant_rows(CaseGroupObjectPermission, school_only)
    assert len(owner_grants) == 8 and owner_grants < _grant_rows(
        CaseGroupObjectPermission, by_workflow
    )
    for receiver in (world.partner_org, world.nambu):
        referral, bulk_referral = (
            ReferralFactory(case=by_workflow, to_organization=receiver) for _ in range(2)
        )
        access.grant_referral_to_receiver(referral)
        assert access.bulk_grant_referrals([(bulk_referral.pk, receiver.pk)]) == 4
        assert _grant_rows(ReferralGroupObjectPermission, bulk_referral) == _grant_rows(
            ReferralGroupObjectPermission, referral
        )
