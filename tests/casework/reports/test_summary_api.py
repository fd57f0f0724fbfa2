"""GET /api/v1/reports/summary/ (API.md) as each reader gets it: the analyst counts the province,
a centre head their office, a principal their school, anyone else is refused; bad parameters are
a 400 naming the parameter; the answer names nobody."""

import datetime
import json

import pytest
from rest_framework.test import APIClient

from casework.models import AccessEvent
from partners.choices import Role
from tests import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/summary/"
HALF = "since=2026-01-01&until=2026-06-30"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def labels(response) -> set[str]:
    return {row["label"] for row in response.json()["rows"]}


def test_the_analyst_counts_every_school_of_the_province(half):
    response = api(half["analyst"]).get(f"{URL}?group_by=school&{HALF}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["group_by"] == "school"
    assert (body["since"], body["until"]) == ("2026-01-01", "2026-06-30")
    assert labels(response) == {"이음초등학교", "새싹초등학교", "한빛초등학교"}
    for row in body["rows"]:
        assert {"key", "label", "cases", "opened", "closed", "escalations", "referrals"} <= set(row)
    assert response["Cache-Control"] == "no-store"


def test_a_centre_head_counts_only_the_schools_of_their_office(half):
    response = api(half["centrehead"]).get(f"{URL}?group_by=school&{HALF}")
    assert response.status_code == 200
    assert labels(response) == {"이음초등학교", "새싹초등학교"}
    body = response.json()
    assert body["total"]["cases"] == 14  # 9 + 5, the north's 7 not among them


def test_a_principal_counts_only_their_school(half):
    response = api(half["principal"]).get(f"{URL}?group_by=district&{HALF}")
    assert response.status_code == 200
    assert labels(response) == {"서울특별시남부교육지원청"}
    assert response.json()["total"]["cases"] == 9


@pytest.mark.parametrize(
    "username", ["teacher", "coordinator", "casemanager", "partner", "privacy", "vice"]
)
def test_everyone_else_is_refused(half, username):
    response = api(half[username]).get(f"{URL}?{HALF}")
    assert response.status_code == 403
    assert response.json()["detail"]


def test_a_membership_that_ended_reads_no_report(half):
    membership = half["centrehead"].memberships.get(role=Role.CENTRE_HEAD)
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    membership.started_on = yesterday - datetime.timedelta(days=30)
    membership.ended_on = yesterday
    membership.save()
    assert api(half["centrehead"]).get(URL).status_code == 403


def test_anonymous_is_asked_to_sign_in():
    assert APIClient().get(URL).status_code == 401


@pytest.mark.parametrize(
    "query, field",
    [
        ("group_by=student", "group_by"),
        ("since=2026-13-01", "since"),
        ("until=yesterday", "until"),
        ("since=2026-06-30&until=2026-01-01", "since"),
        ("since=2010-01-01&until=2026-01-01", "until"),
        ("since=%00", "since"),
        ("half=2026H3", "half"),
        ("half=abc", "half"),
        ("domain=cooking", "domain"),
        ("difficulty=x", "difficulty"),
        ("school_level=college", "school_level"),
        ("district=not-an-id", "district"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(half, query, field):
    response = api(half["analyst"]).get(f"{URL}?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_without_a_period_the_current_half_year_is_counted(half):
    body = api(half["analyst"]).get(URL).json()
    since, until = body["since"], body["until"]
    assert since[5:] in ("01-01", "07-01") and until[5:] in ("06-30", "12-31")
    assert since[:4] == until[:4]


def test_the_answer_names_nobody_and_writes_no_access_event(half):
    events = AccessEvent.objects.count()
    text = json.dumps(
        [
            api(half["analyst"]).get(f"{URL}?group_by={group}&{HALF}").json()
            for group in ("school", "district", "borough", "domain", "difficulty", "status")
        ],
        ensure_ascii=False,
    )
    for student in f.StudentFactory._meta.model.objects.all():
        assert student.name not in text
    assert AccessEvent.objects.count() == events


def test_small_cells_are_strings_in_the_json(half):
    body = api(half["analyst"]).get(f"{URL}?group_by=school&{HALF}").json()
    assert body["suppressed"] is True
    ieum = next(row for row in body["rows"] if row["label"] == "이음초등학교")
    assert ieum["closed"] == "<5"


def test_filters_narrow_the_schools_and_the_cases(half):
    client = api(half["analyst"])
    response = client.get(f"{URL}?group_by=school&half=2026H1&district={half.nambu.pk}")
    assert response.status_code == 200
    assert labels(response) == {"이음초등학교", "새싹초등학교"}
    body = client.get(f"{URL}?group_by=school&half=2026H1&domain=welfare").json()
    assert body["total"]["cases"] == 12  # the welfare cases of 새싹 (5) and 한빛 (7)
    body = client.get(f"{URL}?group_by=school&half=2026H1&difficulty=psychological").json()
    assert body["total"]["cases"] == 18
    half.school.school_level = "middle"
    half.school.save()
    body = client.get(f"{URL}?group_by=school&half=2026H1&school_level=middle").json()
    assert [row["label"] for row in body["rows"]] == ["이음초등학교"]


def test_a_district_outside_the_scope_is_refused(half):
    response = api(half["centrehead"]).get(f"{URL}?district={half.bukbu.pk}")
    assert response.status_code == 400
    assert "district" in response.json()
