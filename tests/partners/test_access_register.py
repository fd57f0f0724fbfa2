"""Nobody approves their own membership, and every grant, change and revocation of a membership
or approval is kept in the access-rights register (PIPA safeguards, Art. 5)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from partners.models import AccessRightRecord, Membership
from tests.factories import MembershipFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate
Kind = AccessRightRecord.Kind


def add_membership(client, user, organization, role="teacher"):
    return client.post(
        reverse("admin:partners_membership_add"),
        {
            "user": user.pk,
            "organization": organization.pk,
            "role": role,
            "title": "",
            "active": "on",
            "started_on": TODAY().isoformat(),
        },
    )


def approve(client, membership, expires_on=None):
    expires_on = expires_on or TODAY() + timedelta(days=365)
    return client.post(
        reverse("admin:partners_membership_approve", args=[membership.pk]),
        {"approval_expires_on": expires_on.isoformat()},
    )


def unapproved(user, **kwargs):
    return MembershipFactory(user=user, approved_on=None, approval_expires_on=None, **kwargs)


# --- Nobody approves their own membership ------------------------------------------------------


def test_superuser_cannot_add_a_membership_for_themselves(admin_client, admin_user):
    school = SchoolFactory()
    response = add_membership(admin_client, admin_user, school)
    assert response.status_code == 200
    assert "자기 자신의 소속" in response.content.decode()
    assert not Membership.objects.filter(user=admin_user).exists()


def test_superuser_cannot_add_a_membership_to_their_own_user_page(admin_client, admin_user):
    school = SchoolFactory()
    url = reverse("admin:partners_user_change", args=[admin_user.pk])
    response = admin_client.post(
        url,
        {
            "username": admin_user.username,
            "name": "관리자",
            "email": "admin@example.test",
            "phone": "",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": TODAY().isoformat(),
            "date_joined_1": "09:00:00",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-organization": school.pk,
            "memberships-0-role": "teacher",
            "memberships-0-title": "",
            "memberships-0-active": "on",
            "memberships-0-started_on": TODAY().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "자기 자신의 소속" in response.content.decode()
    assert not Membership.objects.filter(user=admin_user).exists()


def test_superuser_adds_a_membership_for_someone_else_unapproved(admin_client, admin_user):
    person, school = UserFactory(), SchoolFactory()
    response = add_membership(admin_client, person, school)
    assert response.status_code == 302
    membership = Membership.objects.get(user=person)
    assert membership.approved_by is None and membership.approved_on is None
    assert not membership.is_current()


def test_approval_is_a_separate_step_that_cannot_be_typed(admin_client, admin_user):
    person, other = UserFactory(), UserFactory()
    membership = unapproved(person)
    change = reverse("admin:partners_membership_change", args=[membership.pk])
    page = admin_client.get(change).content.decode()
    assert 'name="approved_by"' not in page and 'name="approved_on"' not in page
    admin_client.post(
        change,
        {
            "user": person.pk,
            "organization": membership.organization.pk,
            "role": "teacher",
            "title": "",
            "active": "on",
            "started_on": TODAY().isoformat(),
            "approved_by": other.pk,
            "approved_on": TODAY().isoformat(),
            "approval_expires_on": (TODAY() + timedelta(days=300)).isoformat(),
        },
    )
    membership.refresh_from_db()
    assert membership.approved_by is None and membership.approved_on is None


def test_an_approved_membership_never_moves_to_another_person(admin_client):
    membership = MembershipFactory(approved_by=UserFactory())
    response = admin_client.post(
        reverse("admin:partners_membership_change", args=[membership.pk]),
        {
            "user": UserFactory().pk,
            "organization": membership.organization.pk,
            "role": membership.role,
            "title": "",
            "active": "on",
            "started_on": membership.started_on.isoformat(),
        },
    )
    assert response.status_code == 200 and "바꿀 수 없습니다" in response.content.decode()
    assert Membership.objects.get(pk=membership.pk).user == membership.user


def test_superuser_approves_someone_elses_membership_as_themselves(admin_client, admin_user):
    membership = unapproved(UserFactory())
    response = approve(admin_client, membership)
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.approved_by == admin_user
    assert membership.approved_on == TODAY()
    assert membership.approval_expires_on == TODAY() + timedelta(days=365)
    assert membership.is_current()


def test_superuser_cannot_approve_their_own_membership(admin_client, admin_user):
    membership = unapproved(admin_user)
    response = approve(admin_client, membership)
    assert response.status_code == 200
    assert "자기 자신의 소속" in response.content.decode()
    membership.refresh_from_db()
    assert membership.approved_by is None and membership.approved_on is None


def test_the_admin_action_refuses_the_own_membership_and_approves_the_rest(
    admin_client, admin_user
):
    own, other = unapproved(admin_user), unapproved(UserFactory())
    response = admin_client.post(
        reverse("admin:partners_membership_changelist"),
        {"action": "approve_for_a_year", "_selected_action": [own.pk, other.pk]},
        follow=True,
    )
    assert "자기 자신의 소속" in response.content.decode()
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.approved_on is None
    assert other.approved_by == admin_user and other.is_current()


def test_approval_expiry_must_be_within_a_year(admin_client):
    membership = unapproved(UserFactory())
    response = approve(admin_client, membership, TODAY() + timedelta(days=500))
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.approved_on is None


def test_the_model_refuses_self_approval():
    user = UserFactory()
    membership = MembershipFactory(user=user)
    membership.approved_by = user
    with pytest.raises(ValidationError):
        membership.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(approved_by=user)


# --- The register --------------------------------------------------------------------------------


def kinds(membership):
    return list(
        AccessRightRecord.objects.filter(membership_id=membership.pk)
        .order_by("at", "pk")
        .values_list("kind", flat=True)
    )


def test_register_rows_on_grant_approval_change_and_end(admin_client, admin_user):
    person, school = UserFactory(), SchoolFactory()
    add_membership(admin_client, person, school)
    membership = Membership.objects.get(user=person)
    approve(admin_client, membership)
    approve(admin_client, membership, TODAY() + timedelta(days=200))
    change = reverse("admin:partners_membership_change", args=[membership.pk])
    fields = {
        "user": person.pk,
        "organization": school.pk,
        "role": "team_member",
        "title": "",
        "active": "on",
        "started_on": TODAY().isoformat(),
    }
    assert admin_client.post(change, fields).status_code == 302
    del fields["active"]
    assert admin_client.post(change, fields).status_code == 302

    assert kinds(membership) == [
        Kind.GRANTED,
        Kind.APPROVAL_GIVEN,
        Kind.APPROVAL_RENEWED,
        Kind.ROLE_CHANGED,
        Kind.ENDED,
    ]
    rows = AccessRightRecord.objects.filter(membership_id=membership.pk)
    assert {row.by for row in rows} == {admin_user}
    assert {row.user for row in rows} == {person}
    assert {row.organization for row in rows} == {school}
    role_change = rows.get(kind=Kind.ROLE_CHANGED)
    assert role_change.changes["role"] == ["teacher", "team_member"]
    renewal = rows.get(kind=Kind.APPROVAL_RENEWED)
    assert renewal.changes["approval_expires_on"] == [
        (TODAY() + timedelta(days=365)).isoformat(),
        (TODAY() + timedelta(days=200)).isoformat(),
    ]
    assert rows.get(kind=Kind.ENDED).changes["active"] == [True, False]


def test_register_keeps_a_deleted_membership():
    membership = MembershipFactory()
    pk = membership.pk
    membership.delete()
    row = AccessRightRecord.objects.filter(membership_id=pk).latest("at")
    assert row.kind == Kind.REVOKED
    assert row.user == membership.user and row.role == membership.role


def test_register_is_shown_in_admin_and_never_deleted(admin_client):
    membership = MembershipFactory(title="담임")
    row = AccessRightRecord.objects.get(membership_id=membership.pk, kind=Kind.GRANTED)
    changelist = reverse("admin:partners_accessrightrecord_changelist")
    response = admin_client.get(changelist)
    assert response.status_code == 200 and membership.user.name in response.content.decode()
    for query in (
        {"kind": Kind.GRANTED},
        {"organization__id__exact": membership.organization.pk},
        {"user__id__exact": membership.user.pk},
        {"at__year": TODAY().year, "at__month": TODAY().month, "at__day": TODAY().day},
    ):
        assert admin_client.get(changelist, query).status_code == 200, query
    detail = reverse("admin:partners_accessrightrecord_change", args=[row.pk])
    assert admin_client.get(detail).status_code == 200
    assert 'name="kind"' not in admin_client.get(detail).content.decode()  # read-only
    delete = reverse("admin:partners_accessrightrecord_delete", args=[row.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:partners_accessrightrecord_add")).status_code == 403
    assert AccessRightRecord.objects.filter(pk=row.pk).exists()
    assert not AccessRightRecord._meta.default_permissions or set(
        AccessRightRecord._meta.default_permissions
    ) == {"view"}


def test_user_history_still_keeps_no_password_hash():
    history_fields = {f.name for f in UserFactory().history.model._meta.fields}
    assert "password" not in history_fields and "last_login" not in history_fields
