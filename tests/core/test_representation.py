"""FastModelSerializer answers exactly what DRF's own ModelSerializer answers."""

import pytest
from rest_framework import serializers

from casework import access
from casework.api import serializers as s
from casework.workflows import intake, team
from tests.factories import ReferralFactory, StudentFactory

pytestmark = pytest.mark.django_db


def drf(serializer, obj):
    """DRF's generic path over the same fields."""
    return serializers.Serializer.to_representation(serializer, obj)


def test_output_equals_drfs_own(world):
    case = intake.open_case(
        by=world["coordinator"],
        student=StudentFactory(school=world.school, name="한별"),
        difficulties=["economic", "health"],
        summary="요약",
    )
    team.add_team_member(case, by=world["coordinator"], user=world["counselor"], role="counsellor")
    referral = ReferralFactory(case=case, to_organization=world.partner_org, status="sent")
    checker = access.AccessChecker(world["coordinator"])
    cases = [
        (s.CaseSerializer(context={"checker": checker}), case),
        (s.ReferralSerializer(), referral),
        (s.ReceivedReferralSerializer(), referral),
        (s.StudentSerializer(), case.student),
        (s.OrgRefSerializer(), world.school),
    ]
    for serializer, obj in cases:
        fast = serializer.to_representation(obj)
        assert fast == drf(serializer, obj), type(serializer).__name__
        assert list(fast) == list(serializer.fields), type(serializer).__name__
    assert s.CaseSerializer(context={"checker": checker}).to_representation(case)["team"]


def test_each_instance_gets_its_own_fields():
    first, second = s.OrgRefSerializer(), s.OrgRefSerializer()
    assert list(first.fields) == list(second.fields) == ["id", "code", "name"]
    assert first.fields["name"] is not second.fields["name"]
    assert first.fields["name"].parent is first and second.fields["name"].parent is second
