"""The alerts' network on top of `world` (tests/conftest.py): 금천경찰서 (police, serves 금천구)
with `police`, 가산동 행정복지센터 with `dong`, 노원구 covered by 북부 where 한빛초등학교 sits, and
a few students of both schools (김하늘 at 이음초등학교 only; 이바다 at both, same birth date)."""

import datetime

import pytest
from rest_framework.test import APIClient

from partners.choices import AgencyType, OrganizationKind, Role
from tests import factories as f

BIRTH = datetime.date(2016, 5, 5)


@pytest.fixture
def alerts_world(world):
    w = world
    w.police_org = f.OrganizationFactory(
        code="P-POLICE", name="금천경찰서", agency_type=AgencyType.POLICE, region_code="11545"
    )
    w.police_org.serves.add(w.borough)
    w.dong_org = f.OrganizationFactory(
        code="P-DONG",
        name="가산동 행정복지센터",
        kind=OrganizationKind.COMMUNITY_CENTER,
        agency_type="",
        region_code="11545",
    )
    w.dong_org.serves.add(w.borough)
    w.nowon = f.BoroughFactory(code="LG-11350", name="노원구", region_code="11350")
    w.bukbu.covers.add(w.nowon)
    w.other_school.region_code = "11350"
    w.other_school.save()
    for username, org, role in (
        ("police", w.police_org, Role.PARTNER_WORKER),
        ("dong", w.dong_org, Role.PARTNER_WORKER),
        ("partnerlead", w.partner_org, Role.PARTNER_LEAD),
    ):
        user = f.UserFactory(username=username)
        f.MembershipFactory(user=user, organization=org, role=role)
        w.users[username] = user
    w.haneul = f.StudentFactory(school=w.school, name="김하늘", birth_date=BIRTH)
    w.bada_here = f.StudentFactory(school=w.school, name="이바다", birth_date=BIRTH)
    w.bada_there = f.StudentFactory(school=w.other_school, name="이바다", birth_date=BIRTH)
    return w


@pytest.fixture
def body():
    """An alert about 김하늘, as a police officer would send it."""
    return {
        "name": "김하늘",
        "birth_date": BIRTH.isoformat(),
        "description": "밤 11시에 혼자 편의점 앞에 있었고 집에 가기 싫다고 말함",
        "urgency": "high",
    }


def client_of(world, username) -> APIClient:
    client = APIClient()
    client.force_authenticate(world[username])
    return client


@pytest.fixture
def api():
    return client_of
