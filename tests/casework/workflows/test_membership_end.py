"""Ending a membership drops the person's own grants on that organisation's cases at once, and a
membership ended in advance loses them the day after its last day (the daily job)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework import access, tasks
from casework.models import CaseUserObjectPermission
from casework.workflows import memberships, team
from partners.models import Membership
from tests.factories import CaseFactory, MembershipFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture
def office_led_case(world):
    """A case of 이음초등학교 led by 남부교육지원청, with the school's counsellor on its team."""
    case = CaseFactory(owner=world.school, lead=world.nambu, student__school=world.school)
    access.grant_case_to_owner_school(case)
    access.grant_case_to_lead_office(case, world.nambu)
    team.add_team_member(case, by=world["coordinator"], user=world["counselor"], role="counsellor")
    return case


def grants(user, case):
    return CaseUserObjectPermission.objects.filter(user=user, content_object=case).count()


def school_membership(world):
    return Membership.objects.get(user=world["counselor"], organization=world.school)


def test_inactive_membership_loses_team_grants_at_once(world, office_led_case):
    assert grants(world["counselor"], office_led_case) > 0
    membership = school_membership(world)
    membership.active = False
    membership.save()
    assert grants(world["counselor"], office_led_case) == 0
    assert not access.visible_cases(world["counselor"]).exists()


def test_membership_ended_today_or_earlier_loses_team_grants_at_once(world, office_led_case):
    membership = school_membership(world)
    membership.ended_on = TODAY()
    membership.save()
    assert grants(world["counselor"], office_led_case) == 0


def test_end_membership_workflow_records_who_ended_it(world, office_led_case):
    membership = memberships.end_membership(
        school_membership(world), by=world["principal"], on=TODAY() - timedelta(days=1)
    )
    assert membership.ended_on == TODAY() - timedelta(days=1)
    assert membership.history.first().history_user == world["principal"]
    assert grants(world["counselor"], office_led_case) == 0


def test_membership_ended_in_advance_loses_grants_the_day_after(world, office_led_case):
    membership = school_membership(world)
    membership.ended_on = TODAY() + timedelta(days=3)
    membership.save()
    assert grants(world["counselor"], office_led_case) > 0  # still counts until its last day
    assert tasks.drop_ended_membership_grants.apply().get() == 0
    # Three days on: the last day has passed.
    Membership.objects.filter(pk=membership.pk).update(ended_on=TODAY() - timedelta(days=1))
    assert grants(world["counselor"], office_led_case) > 0
    assert tasks.drop_ended_membership_grants.apply().get() > 0
    assert grants(world["counselor"], office_led_case) == 0
    assert tasks.drop_ended_membership_grants.apply().get() == 0  # nothing left to do


def test_another_current_membership_at_the_lead_office_keeps_the_grants(world, office_led_case):
    MembershipFactory(user=world["counselor"], organization=world.nambu, role="case_manager")
    membership = school_membership(world)
    membership.active = False
    membership.save()
    assert (
        grants(world["counselor"], office_led_case) > 0
    )  # still tied to the case through 남부교육지원청
    lead = Membership.objects.get(user=world["counselor"], organization=world.nambu)
    lead.ended_on = TODAY() - timedelta(days=1)
    lead.save()
    assert grants(world["counselor"], office_led_case) == 0


def test_deleted_membership_loses_team_grants(world, office_led_case):
    school_membership(world).delete()
    assert grants(world["counselor"], office_led_case) == 0


def test_other_people_keep_their_grants(world, office_led_case):
    team.add_team_member(
        office_led_case, by=world["coordinator"], user=world["teacher"], role="homeroom_teacher"
    )
    membership = school_membership(world)
    membership.active = False
    membership.save()
    assert grants(world["teacher"], office_led_case) > 0
