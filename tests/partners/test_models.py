"""Memberships, approvals and role groups."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partners.models import Agreement, Membership, RoleGroup
from tests.factories import (
    AgreementFactory,
    MembershipFactory,
    OrganizationFactory,
    SchoolFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_current_memberships_need_active_and_valid_approval():
    school = SchoolFactory()
    ok = MembershipFactory(organization=school)
    MembershipFactory(organization=school, active=False)
    MembershipFactory(organization=school, approved_on=None, approval_expires_on=None)
    MembershipFactory(
        organization=school,
        approved_on=TODAY - timedelta(days=400),
        approval_expires_on=TODAY - timedelta(days=1),
    )
    MembershipFactory(
        organization=school,
        approved_on=TODAY + timedelta(days=1),
        approval_expires_on=TODAY + timedelta(days=300),
    )
    assert list(Membership.objects.current()) == [ok]


def test_role_groups_follow_active_memberships():
    school = SchoolFactory(code="S9")
    membership = MembershipFactory(organization=school, role="coordinator")
    group = RoleGroup.objects.get(organization=school, role="coordinator").group
    assert group.name == "S9:coordinator"
    assert list(membership.user.groups.all()) == [group]
    membership.active = False
    membership.save()
    assert not membership.user.groups.exists()


def test_role_must_fit_the_organisation_kind():
    membership = MembershipFactory.build(
        user=UserFactory(), organization=OrganizationFactory(), role="principal"
    )
    with pytest.raises(ValidationError):
        membership.clean()


def test_agreement_active_window():
    agreement = AgreementFactory(valid_until=TODAY + timedelta(days=1))
    assert list(Agreement.objects.active_on()) == [agreement]
    assert not Agreement.objects.active_on(TODAY + timedelta(days=2)).exists()
    agreement.allowed_fields = ["student_name", "shoe_size"]
    with pytest.raises(ValidationError):
        agreement.clean()


def test_user_history_excludes_secrets():
    user = UserFactory()
    user.set_password("new-password-2026")
    user.save()
    fields = {f.name for f in user.history.model._meta.fields}
    assert "password" not in fields and "last_login" not in fields
