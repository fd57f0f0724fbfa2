"""The district office sends on what the match could not place (학교로 보내기): its centre
staff see the alerts routed to their office with what the sender wrote, pick a school of the
office and the student there, and the school's coordinator gets the concern. Another office
sees nothing; a second routing of one alert is refused with 409."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from casework.models import AccessEvent, Alert, Concern, Notification
from casework.workflows import alerts
from casework.workflows.errors import GuardFailed
from tests import factories as f

from .conftest import BIRTH

pytestmark = pytest.mark.django_db


@pytest.fixture
def unplaced(alerts_world):
    """An alert about 이바다 (two students of that name and birth date): 남부's to route."""
    alert = alerts.send_alert(
        alerts_world["police"],
        name="이바다",
        birth_date=BIRTH.isoformat(),
        description="학교에 안 가고 공원에 있었음",
        urgency="urgent",
    )
    assert alert.office == alerts_world.nambu and alert.concern is None
    return alert


def web(world, username) -> Client:
    client = Client()
    client.force_login(world[username])
    return client


def last_event_id() -> int:
    return AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_the_office_lists_its_alerts_with_the_details_and_logs_the_read(alerts_world, unplaced):
    w = alerts_world
    mark = last_event_id()
    page = web(w, "casemanager").get(reverse("casework:alert_route_list"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "이바다" in text and "금천경찰서" in text and "공원에 있었음" in text
    assert reverse("casework:alert_route", args=[unplaced.pk]) in text
    [event] = AccessEvent.objects.filter(id__gt=mark, user=w["casemanager"])
    assert (event.action, event.object_type, event.object_ids) == (
        "list",
        "alert",
        [str(unplaced.pk)],
    )


def test_another_office_sees_nothing_of_it(alerts_world, unplaced):
    w = alerts_world
    client = web(w, "casemanager2")
    assert "이바다" not in client.get(reverse("casework:alert_route_list")).content.decode()
    assert client.get(reverse("casework:alert_route", args=[unplaced.pk])).status_code == 404
    answer = client.post(
        reverse("casework:alert_route", args=[unplaced.pk]),
        {"school": str(w.school.pk), "student": str(w.bada_here.pk)},
    )
    assert answer.status_code == 404
    unplaced.refresh_from_db()
    assert unplaced.concern is None


@pytest.mark.parametrize("username", ["teacher", "coordinator", "police", "analyst"])
def test_only_district_centre_staff_open_the_routing_pages(alerts_world, unplaced, username):
    client = web(alerts_world, username)
    assert client.get(reverse("casework:alert_route_list")).status_code == 403
    assert client.get(reverse("casework:alert_route", args=[unplaced.pk])).status_code == 404


def test_the_routing_page_offers_the_students_of_the_school_chosen(alerts_world, unplaced):
    w = alerts_world
    f.StudentFactory(school=w.school, name="정다른", birth_date=BIRTH.replace(year=2015))
    same_day = f.StudentFactory(school=w.school, name="정같은날", birth_date=BIRTH)
    mark = last_event_id()
    url = reverse("casework:alert_route", args=[unplaced.pk])
    page = web(w, "centrehead").get(f"{url}?school={w.school.pk}")
    text = page.content.decode()
    assert page.status_code == 200
    assert str(w.bada_here.pk) in text and str(same_day.pk) in text
    assert "정다른" not in text and str(w.bada_there.pk) not in text  # 한빛 is 북부's
    events = AccessEvent.objects.filter(id__gt=mark, user=w["centrehead"])
    assert {(e.action, e.object_type) for e in events} == {("view", "alert"), ("list", "student")}
    # A school outside the office offers nobody.
    outside = web(w, "centrehead").get(f"{url}?school={w.other_school.pk}").content.decode()
    assert str(w.bada_there.pk) not in outside


def test_sending_it_on_raises_the_concern_at_the_school(alerts_world, unplaced):
    w = alerts_world
    url = reverse("casework:alert_route", args=[unplaced.pk])
    answer = web(w, "casemanager").post(
        url, {"school": str(w.school.pk), "student": str(w.bada_here.pk)}
    )
    assert answer.status_code == 302
    unplaced.refresh_from_db()
    concern = unplaced.concern
    assert (concern.school, concern.student, concern.source) == (w.school, w.bada_here, "external")
    assert concern.raised_by == w["police"] and concern.urgency == "urgent"
    assert unplaced.routed_by == w["casemanager"] and unplaced.status == "routed"
    [told] = Notification.objects.filter(kind="alert_concern")
    assert told.recipient == w["coordinator"] and told.display_title.startswith("[긴급]")
    reasons = [h.history_change_reason for h in unplaced.history.order_by("history_id")]
    assert reasons[-1] == "교육지원청이 학교로 전달"
    assert unplaced.history.order_by("history_id").last().history_user == w["casemanager"]
    assert not Notification.objects.filter(recipient=w["police"]).exists()


def test_a_student_not_offered_is_refused_beside_the_field(alerts_world, unplaced):
    w = alerts_world
    stranger = f.StudentFactory(school=w.school, name="남남", birth_date=BIRTH.replace(year=2014))
    url = reverse("casework:alert_route", args=[unplaced.pk])
    page = web(w, "casemanager").post(
        url, {"school": str(w.school.pk), "student": str(stranger.pk)}
    )
    assert page.status_code == 200 and "form-hint-invalid" in page.content.decode()
    with pytest.raises(ValidationError) as refused:
        alerts.route_alert(unplaced, by=w["casemanager"], school=w.school, student=stranger)
    assert "student" in refused.value.message_dict
    unplaced.refresh_from_db()
    assert unplaced.concern is None


def test_a_school_of_another_office_is_refused(alerts_world, unplaced):
    w = alerts_world
    with pytest.raises(ValidationError) as refused:
        alerts.route_alert(
            unplaced, by=w["casemanager"], school=w.other_school, student=w.bada_there
        )
    assert "school" in refused.value.message_dict


def test_a_second_routing_is_409(alerts_world, unplaced):
    w = alerts_world
    stale = Alert.objects.get(pk=unplaced.pk)
    alerts.route_alert(unplaced, by=w["casemanager"], school=w.school, student=w.bada_here)
    with pytest.raises(GuardFailed):
        alerts.route_alert(stale, by=w["centrehead"], school=w.school, student=w.bada_here)
    url = reverse("casework:alert_route", args=[unplaced.pk])
    answer = web(w, "centrehead").post(
        url, {"school": str(w.school.pk), "student": str(w.bada_here.pk)}
    )
    assert answer.status_code == 409
    assert Concern.objects.filter(source="external").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_routings_at_once_one_wins_the_other_is_409(alerts_world, unplaced):
    w = alerts_world
    barrier = threading.Barrier(2)
    outcomes = []

    def route(username):
        try:
            barrier.wait(timeout=10)
            alerts.route_alert(
                Alert.objects.get(pk=unplaced.pk),
                by=w[username],
                school=w.school,
                student=w.bada_here,
            )
            outcomes.append("routed")
        except GuardFailed:
            outcomes.append("409")
        finally:
            connection.close()

    threads = [threading.Thread(target=route, args=(u,)) for u in ("casemanager", "centrehead")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["409", "routed"]
    assert Concern.objects.filter(source="external").count() == 1
