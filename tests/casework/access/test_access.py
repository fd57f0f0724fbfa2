"""The access core (casework/access.py): grants through role groups and users, gated by current
data-handling approvals (Act Art. 17⑦), never widened by model-level permissions."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from casework import access
from casework.models import Case, CaseGroupObjectPermission
from core.memo import request_memo
from partners.choices import Role
from partners.models import Membership
from tests.factories import CaseFactory, MembershipFactory, ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_permission_codenames_match_design():
    codenames = set(
        Permission.objects.filter(content_type__app_label="casework").values_list(
            "codename", flat=True
        )
    )
    assert set(access.CASE_PERMISSIONS) <= codenames
    assert set(access.REFERRAL_PERMISSIONS) <= codenames


def test_owner_school_roles_see_the_case(world, granted_case):
    for username in ("coordinator", "principal", "vice"):
        assert list(access.visible_cases(world[username])) == [granted_case], username


def test_other_roles_and_organisations_do_not_see_the_case(world, granted_case):
    for username in (
        "teacher",
        "counselor",
        "coordinator2",
        "casemanager",
        "centrehead",
        "partner",
        "analyst",
        "privacy",
        "admin",
    ):
        assert not access.visible_cases(world[username]).exists(), username


def test_coordinator_holds_restricted_notes_but_vice_principal_does_not(world, granted_case):
    assert access.has_case_perm(world["coordinator"], access.VIEW_RESTRICTED_NOTES, granted_case)
    assert not access.has_case_perm(world["vice"], access.VIEW_RESTRICTED_NOTES, granted_case)
    assert access.has_case_perm(world["principal"], access.APPROVE_PLAN, granted_case)
    assert not access.has_case_perm(world["coordinator"], access.APPROVE_PLAN, granted_case)


@pytest.mark.parametrize(
    "change",
    [
        {"active": False},
        {"approved_on": None, "approval_expires_on": None},
        {"approval_expires_on": "yesterday"},
        {"approved_on": "tomorrow", "approval_expires_on": "next_year"},
    ],
    ids=["ended", "never_approved", "approval_expired", "approval_not_yet_valid"],
)
def test_membership_without_current_approval_contributes_no_access(world, granted_case, change):
    today = timezone.localdate()
    days = {"yesterday": -1, "tomorrow": 1, "next_year": 365}
    membership = Membership.objects.get(user=world["coordinator"], role=Role.COORDINATOR)
    for field, value in change.items():
        setattr(membership, field, today + timedelta(days=days[value]) if value in days else value)
    membership.save()

    assert not access.visible_cases(world["coordinator"]).exists()
    assert not access.has_case_perm(world["coordinator"], access.VIEW_CASE, granted_case)
    checker = access.AccessChecker(world["coordinator"])
    assert checker.perms(granted_case) == set()


def test_user_grant_needs_a_current_membership(world, granted_case):
    counselor = world["counselor"]
    access.grant_to_user(granted_case, counselor, [access.VIEW_CASE])
    assert list(access.visible_cases(counselor)) == [granted_case]

    Membership.objects.filter(user=counselor).update(active=False)
    assert not access.visible_cases(counselor).exists()


def test_model_level_permission_never_widens_row_access(world, granted_case):
    teacher = world["teacher"]
    teacher.user_permissions.add(
        Permission.objects.get(codename="view_case", content_type__app_label="casework")
    )
    assert not access.visible_cases(teacher).exists()


def test_superuser_sees_no_case_content(world, granted_case):
    assert world["admin"].is_superuser
    assert not access.visible_cases(world["admin"]).exists()


def test_revoke_from_role_and_organisation(world, granted_case):
    access.revoke_from_role(granted_case, world.school, Role.VICE_PRINCIPAL)
    assert not access.visible_cases(world["vice"]).exists()
    assert access.visible_cases(world["coordinator"]).exists()

    access.revoke_from_organization(granted_case, world.school)
    assert not CaseGroupObjectPermission.objects.filter(content_object=granted_case).exists()
    assert not access.visible_cases(world["coordinator"]).exists()


def test_lead_office_grants_exclude_restricted_notes(world, granted_case):
    access.grant_case_to_lead_office(granted_case, world.nambu)
    assert access.has_case_perm(world["casemanager"], access.MANAGE_CASE, granted_case)
    assert not access.has_case_perm(
        world["casemanager"], access.VIEW_RESTRICTED_NOTES, granted_case
    )
    assert access.has_case_perm(world["centrehead"], access.VIEW_CASE, granted_case)
    assert not access.visible_cases(world["casemanager2"]).exists()


def test_referral_receiver_sees_referral_but_not_case(world, granted_case):
    referral = ReferralFactory(case=granted_case, to_organization=world.partner_org)
    access.grant_referral_to_receiver(referral)

    assert list(access.visible_referrals(world["partner"])) == [referral]
    assert access.has_referral_perm(world["partner"], access.ACT_ON_REFERRAL, referral)
    assert not access.visible_referrals(world["partner2"]).exists()
    assert not access.visible_cases(world["partner"]).exists()


def test_ending_a_membership_revokes_access_at_once(world, granted_case):
    membership = Membership.objects.get(user=world["coordinator"])
    membership.active = False
    membership.ended_on = timezone.localdate()
    membership.save()
    assert not access.visible_cases(world["coordinator"]).exists()
    assert not world["coordinator"].groups.exists()


def test_visible_cases_is_one_semi_join_query(world, granted_case, django_assert_num_queries):
    sql = str(access.visible_cases(world["coordinator"]).query).upper()
    # one IN over the UNION ALL of group grants and (membership-gated) user grants, so the
    # planner drives the list from the user's grants instead of scanning every case; the
    # permission is a one-row subquery, not a join on every grant row. Outside a request the
    # union has a third part, the break-glass openings gated by a membership that may open one
    # (empty for a coordinator); inside one it is left out for them (next test).
    assert sql.count(" UNION ALL ") == 2 and "EXISTS" not in sql
    assert "CASEWORK_BREAKGLASS" in sql
    assert "JOIN AUTH_PERMISSION" not in sql and 'JOIN "AUTH_PERMISSION"' not in sql
    with django_assert_num_queries(1):
        list(access.visible_cases(world["coordinator"]))


def test_inside_a_request_the_memberships_are_literal_values(world, granted_case):
    with request_memo():
        access.visible_cases(world["coordinator"]).exists()  # reads the memberships once
        sql = str(access.visible_cases(world["coordinator"]).query).upper()
    assert "PARTNERS_MEMBERSHIP" not in sql
    assert sql.count(" UNION ALL ") == 1 and "CASEWORK_BREAKGLASS" not in sql
    assert "PARTNERS_MEMBERSHIP" in str(access.visible_cases(world["coordinator"]).query).upper()


def _all_views(world, case):
    users = [world[name] for name in ("coordinator", "counselor", "casemanager", "partner")]
    return [
        (
            sorted(access.visible_cases(u).values_list("pk", flat=True)),
            sorted(access.visible_referrals(u).values_list("pk", flat=True)),
            sorted(access.received_referrals(u).values_list("pk", flat=True)),
            sorted(access.sent_referrals(u).values_list("pk", flat=True)),
            sorted(access.visible_students(u).values_list("pk", flat=True)),
            access.AccessChecker(u).perms(case),
        )
        for u in users
    ]


def test_memoized_and_queried_memberships_see_the_same_rows(world, granted_case):
    access.grant_to_user(granted_case, world["counselor"], [access.VIEW_CASE])
    access.grant_case_to_lead_office(granted_case, world.nambu)
    referral = ReferralFactory(case=granted_case, to_organization=world.partner_org, status="sent")
    access.grant_referral_to_receiver(referral)
    for membership in Membership.objects.filter(user=world["casemanager"]):
        # an expired approval contributes nothing, either way
        membership.approval_expires_on = timezone.localdate() - timedelta(days=1)
        membership.save()
    queried = _all_views(world, granted_case)
    with request_memo():
        memoized = _all_views(world, granted_case)
    assert memoized == queried
    coordinator, counselor, casemanager, partner = queried
    assert coordinator[0] == counselor[0] == [granted_case.pk] and casemanager[0] == []
    assert partner[2] == [referral.pk] and partner[0] == [] and coordinator[1] == [referral.pk]


def test_ending_a_membership_inside_a_request_revokes_at_once(world, granted_case):
    with request_memo():
        assert access.visible_cases(world["coordinator"]).exists()
        membership = Membership.objects.get(user=world["coordinator"])
        membership.active = False
        membership.save()
        assert not access.visible_cases(world["coordinator"]).exists()


def test_checker_prefetches_a_page_in_constant_queries(world, django_assert_num_queries):
    cases = [CaseFactory(owner=world.school, lead=world.school) for _ in range(12)]
    for c in cases:
        access.grant_case_to_owner_school(c)
    checker = access.AccessChecker(world["coordinator"])
    with django_assert_num_queries(1):
        checker.prefetch(cases)
        for c in cases:
            assert checker.has(access.VIEW_CASE, c)
            assert not checker.has(access.APPROVE_PLAN, c)


def test_grants_are_idempotent(world, granted_case):
    before = CaseGroupObjectPermission.objects.count()
    access.grant_case_to_owner_school(granted_case)
    assert CaseGroupObjectPermission.objects.count() == before


def test_anonymous_sees_nothing(granted_case):
    from django.contrib.auth.models import AnonymousUser

    assert not access.visible_cases(AnonymousUser()).exists()
    assert not access.visible_referrals(None).exists()


def test_new_membership_with_approval_gains_role_access(world, granted_case):
    newcomer = UserFactory(username="newcoordinator")
    MembershipFactory(user=newcomer, organization=world.school, role=Role.COORDINATOR)
    assert list(access.visible_cases(newcomer)) == [granted_case]
    assert Case.objects.count() == 1


def test_team_grant_ends_with_the_membership_at_the_cases_school(world, granted_case):
    counselor = world["counselor"]
    access.grant_to_user(granted_case, counselor, [access.VIEW_CASE, access.VIEW_RESTRICTED_NOTES])
    # The counsellor also works at another school, with a current approval there.
    MembershipFactory(user=counselor, organization=world.other_school, role=Role.TEAM_MEMBER)
    assert list(access.visible_cases(counselor)) == [granted_case]

    at_case_school = Membership.objects.get(user=counselor, organization=world.school)
    at_case_school.active = False
    at_case_school.save()

    assert not access.visible_cases(counselor).exists()
    assert not access.has_case_perm(counselor, access.VIEW_RESTRICTED_NOTES, granted_case)
    assert access.AccessChecker(counselor).perms(granted_case) == set()


def test_user_grant_through_the_lead_office_counts(world, granted_case):
    access.grant_case_to_lead_office(granted_case, world.nambu)
    granted_case.lead = world.nambu
    granted_case.save()
    access.grant_to_user(granted_case, world["casemanager"], [access.VIEW_RESTRICTED_NOTES])
    assert access.has_case_perm(world["casemanager"], access.VIEW_RESTRICTED_NOTES, granted_case)
    assert access.AccessChecker(world["casemanager"]).has(
        access.VIEW_RESTRICTED_NOTES, granted_case
    )


def test_referrals_are_granted_to_roles_never_to_a_person(world, granted_case):
    referral = ReferralFactory(case=granted_case, to_organization=world.partner_org)
    with pytest.raises(TypeError, match="roles"):
        access.grant_to_user(referral, world["partner"], [access.ACT_ON_REFERRAL])
    access.grant_referral_to_receiver(referral)
    sql = str(access.received_referrals(world["partner"]).query).upper()
    assert "REFERRALUSEROBJECTPERMISSION" not in sql and "UNION ALL" not in sql
