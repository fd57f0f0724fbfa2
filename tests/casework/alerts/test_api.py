"""POST and GET /api/v1/alerts/ (API.md "Discovery"): who may send, what is refused and how,
and what the sender learns — the alert's id and status, the same for a known and an unknown
child, and nothing of the student, the concern or the case."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from casework.models import Alert, Concern, Notification
from casework.workflows import intake
from partners.models import Membership

pytestmark = pytest.mark.django_db
URL = "/api/v1/alerts/"


# --- Who may send ----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["police", "dong", "partner", "partnerlead", "partner2"])
def test_partners_community_centres_and_police_may_send(alerts_world, api, body, username):
    answer = api(alerts_world, username).post(URL, body, format="json")
    assert answer.status_code == 201, answer.content
    assert set(answer.json()) == {"id", "status"}


@pytest.mark.parametrize(
    "username",
    ["teacher", "coordinator", "principal", "casemanager", "centrehead", "analyst", "privacy"],
)
def test_school_office_and_provincial_staff_may_not_send(alerts_world, api, body, username):
    client = api(alerts_world, username)
    assert client.post(URL, body, format="json").status_code == 403
    assert client.get(URL).status_code == 403
    assert not Alert.objects.exists()


def test_a_sender_without_a_current_approval_may_not_send(alerts_world, api, body):
    for membership in Membership.objects.filter(user=alerts_world["police"]):
        membership.approval_expires_on = timezone.localdate() - timedelta(days=1)
        membership.save()
    assert api(alerts_world, "police").post(URL, body, format="json").status_code == 403


def test_anonymous_is_refused(alerts_world, body):
    from rest_framework.test import APIClient

    assert APIClient().post(URL, body, format="json").status_code == 401


# --- What is refused -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"name": ""}, "name", "이름"),
        ({"name": None}, "name", "이름"),
        ({"name": 7}, "name", "글자"),
        ({"name": "가" * 101}, "name", "100자"),
        ({"birth_date": ""}, "birth_date", "생년월일"),
        ({"birth_date": "2016-13-45"}, "birth_date", "형식"),
        ({"birth_date": ["2016-05-05"]}, "birth_date", "형식"),
        ({"description": "  "}, "description", "있었던 일"),
        ({"description": "가" * 2001}, "description", "2000자"),
        ({"urgency": "panic"}, "urgency", "긴급도"),
        ({"urgency": 3}, "urgency", "긴급도"),
        ({"school": "P-POLICE"}, "school", "학교"),
        ({"school": "nowhere"}, "school", "학교"),
        ({"borough": "99999"}, "borough", "자치구"),
        ({"borough": "금천구"}, "borough", "자치구"),
    ],
)
def test_bad_values_are_400_beside_their_field_in_korean(
    alerts_world, api, body, change, field, words
):
    answer = api(alerts_world, "police").post(URL, {**body, **change}, format="json")
    assert answer.status_code == 400, answer.content
    assert words in " ".join(answer.json()[field])
    assert not Alert.objects.exists()


def test_a_birth_date_in_the_future_is_refused(alerts_world, api, body):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    answer = api(alerts_world, "police").post(URL, {**body, "birth_date": tomorrow}, format="json")
    assert answer.status_code == 400 and "오늘" in answer.json()["birth_date"][0]


def test_every_missing_field_is_named_at_once(alerts_world, api):
    answer = api(alerts_world, "police").post(URL, {}, format="json")
    assert answer.status_code == 400
    assert {"name", "birth_date", "description"} <= set(answer.json())


@pytest.mark.parametrize("raw", ["null", "[]", '["김하늘"]', "42", '"김하늘"', "{", "true"])
def test_a_body_that_is_not_an_object_is_400_json(alerts_world, api, raw):
    answer = api(alerts_world, "police").post(URL, raw, content_type="application/json")
    assert answer.status_code == 400, (raw, answer.content)
    assert answer["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("field", ["name", "description", "school", "borough", "birth_date"])
def test_a_lone_surrogate_is_400_not_500(alerts_world, api, body, field):
    raw = json.dumps({**body, field: "김\ud800"})  # json.dumps writes it as \\ud800
    answer = api(alerts_world, "police").post(URL, raw, content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert not Alert.objects.exists()


def test_a_nul_is_400(alerts_world, api, body):
    answer = api(alerts_world, "police").post(URL, {**body, "name": "김\x00"}, format="json")
    assert answer.status_code == 400


def test_an_alert_that_cannot_be_placed_asks_for_a_borough(alerts_world, api, body):
    """A sender serving no borough must name the school or the borough, child known or not."""
    w = alerts_world
    w.police_org.serves.clear()
    w.police_org.region_code = ""
    w.police_org.save()
    client = api(w, "police")
    for name in ("김하늘", "박모름"):
        answer = client.post(URL, {**body, "name": name}, format="json")
        assert answer.status_code == 400 and "borough" in answer.json()
    assert client.post(URL, {**body, "borough": "11545"}, format="json").status_code == 201


# --- What the sender learns ------------------------------------------------------------------


def test_the_answer_is_the_same_for_a_known_and_an_unknown_child(alerts_world, api, body):
    client = api(alerts_world, "police")
    known = client.post(URL, body, format="json")
    unknown = client.post(URL, {**body, "name": "박모름"}, format="json")
    ambiguous = client.post(URL, {**body, "name": "이바다"}, format="json")
    answers = [known, unknown, ambiguous]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert [sorted(a.json()) for a in answers] == [["id", "status"]] * 3
    assert [a.json()["status"] for a in answers] == ["routed"] * 3
    # The matched one made a concern, the others did not; nothing says so.
    assert Concern.objects.filter(source="external").count() == 1
    listed = client.get(URL).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [sorted(r) for r in rows] == [["created_at", "id", "status"]] * 3
    assert {r["status"] for r in rows} == {"routed"}
    assert {r["id"] for r in rows} == {a.json()["id"] for a in answers}


def test_the_sender_lists_only_their_own_alerts(alerts_world, api, body):
    w = alerts_world
    mine = api(w, "police").post(URL, body, format="json").json()["id"]
    api(w, "dong").post(URL, body, format="json")
    listed = api(w, "police").get(URL).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [r["id"] for r in rows] == [mine]


def test_the_sender_cannot_read_the_concern_the_student_or_the_case(alerts_world, api, body):
    w = alerts_world
    client = api(w, "police")
    alert = Alert.objects.get(pk=client.post(URL, body, format="json").json()["id"])
    concern = alert.concern
    assert client.get("/api/v1/concerns/").json()["count"] == 0
    assert client.get(f"/api/v1/students/{w.haneul.pk}/").status_code == 404
    case = intake.triage_concern(concern, by=w["coordinator"], decision="open_case").case
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert client.get("/api/v1/cases/").json()["count"] == 0
    # The triage tells the raiser of a school concern; the sender of an alert hears nothing.
    assert not Notification.objects.filter(recipient=w["police"]).exists()
    listed = client.get(URL).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [r["status"] for r in rows] == ["routed"]
    assert "김하늘" not in json.dumps(listed, ensure_ascii=False)


def test_the_sender_does_not_learn_from_a_repeat_alert(alerts_world, api, body):
    """A second alert about a child with an open case answers as the first did."""
    w = alerts_world
    client = api(w, "police")
    first = client.post(URL, body, format="json")
    intake.triage_concern(
        Alert.objects.get(pk=first.json()["id"]).concern, by=w["coordinator"], decision="open_case"
    )
    second = client.post(URL, body, format="json")
    assert second.status_code == 201 and second.json()["status"] == first.json()["status"]
    assert sorted(second.json()) == sorted(first.json())
