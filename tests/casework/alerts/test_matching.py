"""Matching an alert to a student, and where it goes (DESIGN.md §11): a single exact match of
name and birth date — at the school named, else in the borough named, else anywhere in the
sender's province — gets a concern at its school; no match or several go to a district office."""

import pytest
from django.core import mail

from casework.models import Alert, Concern, Notification
from casework.workflows import alerts
from tests import factories as f

from .conftest import BIRTH

pytestmark = pytest.mark.django_db


def send(world, username="police", **values):
    fields = {
        "name": "김하늘",
        "birth_date": BIRTH.isoformat(),
        "description": "밤늦게 혼자 있었음",
        "urgency": "normal",
    }
    return alerts.send_alert(world[username], **{**fields, **values})


def test_a_unique_match_raises_an_external_concern_at_the_school(alerts_world):
    w = alerts_world
    alert = send(w, description="집에 가기 싫다고 말함", urgency="high")
    alert.refresh_from_db()
    assert alert.status == "routed" and alert.student == w.haneul and alert.office is None
    concern = alert.concern
    assert (concern.school, concern.student, concern.source) == (w.school, w.haneul, "external")
    assert concern.raised_by == w["police"] and concern.urgency == "high"
    assert concern.status == "open"
    # Who alerted, how urgent and what happened, in Korean.
    assert "금천경찰서" in concern.description and "높음" in concern.description
    assert "집에 가기 싫다고 말함" in concern.description


def test_the_coordinator_is_told_at_once(alerts_world):
    w = alerts_world
    alert = send(w)
    [told] = Notification.objects.filter(kind="alert_concern")
    assert told.recipient == w["coordinator"]
    assert "김하늘" in told.display_title and "[긴급]" not in told.display_title
    assert told.url == f"/casework/concerns/{alert.concern_id}/"
    assert not Notification.objects.filter(recipient=w["police"]).exists()


def test_an_urgent_alert_is_e_mailed_to_the_coordinator_at_once(
    alerts_world, django_capture_on_commit_callbacks
):
    w = alerts_world
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send(w, urgency="urgent")
    [told] = Notification.objects.filter(kind="alert_concern")
    told.refresh_from_db()
    assert told.email_status == "sent"
    [message] = [m for m in mail.outbox if m.to == [w["coordinator"].email]]
    assert "[긴급]" in message.subject and "김하늘" in message.subject


def test_several_students_of_that_name_and_birth_date_are_no_match(alerts_world):
    w = alerts_world
    alert = send(w, name="이바다")
    alert.refresh_from_db()
    assert alert.status == "routed" and alert.concern is None and alert.student is None
    assert alert.office == w.nambu  # the office covering where 금천경찰서 works
    assert not Concern.objects.filter(source="external").exists()


def test_the_school_named_settles_an_ambiguous_name(alerts_world):
    w = alerts_world
    alert = send(w, name="이바다", school=str(w.other_school.pk))
    assert alert.concern.school == w.other_school and alert.student == w.bada_there


def test_the_school_may_be_named_by_its_code(alerts_world):
    w = alerts_world
    alert = send(w, name="이바다", school=w.school.code)
    assert alert.student == w.bada_here


def test_the_borough_named_settles_an_ambiguous_name(alerts_world):
    w = alerts_world
    alert = send(w, name="이바다", borough="11350")
    assert alert.student == w.bada_there and alert.concern.school == w.other_school


def test_a_match_outside_the_school_named_is_no_match(alerts_world):
    w = alerts_world
    alert = send(w, school=str(w.other_school.pk))  # 김하늘 is at 이음초등학교
    assert alert.concern is None and alert.office == w.bukbu  # the school's own office


def test_nobody_of_that_name_goes_to_the_office_covering_the_borough(alerts_world):
    w = alerts_world
    alert = send(w, name="박모름", borough="11350")
    assert alert.concern is None and alert.office == w.bukbu
    told = Notification.objects.filter(kind="alert_to_route")
    assert {n.recipient for n in told} == {w["casemanager2"]}
    assert "금천경찰서" in told[0].display_title


def test_an_unmatched_alert_tells_the_district_centre_of_the_sender(alerts_world):
    w = alerts_world
    alert = send(w, "dong", name="박모름", urgency="urgent")
    assert alert.office == w.nambu and alert.sender_organization == w.dong_org
    told = Notification.objects.filter(kind="alert_to_route")
    assert {n.recipient for n in told} == {w["casemanager"], w["centrehead"]}
    assert all(n.display_title.startswith("[긴급]") for n in told)
    assert not Notification.objects.filter(kind="alert_concern").exists()


def test_a_student_who_left_is_not_matched(alerts_world):
    w = alerts_world
    w.haneul.enrolment_status = "transferred_out"
    w.haneul.save()
    alert = send(w)
    assert alert.concern is None and alert.office == w.nambu


def test_a_student_outside_the_senders_province_is_not_matched(alerts_world):
    w = alerts_world
    elsewhere = f.SchoolFactory(name="빛고을초등학교")  # another province altogether
    f.StudentFactory(school=elsewhere, name="최먼곳", birth_date=BIRTH)
    alert = send(w, name="최먼곳")
    assert alert.concern is None and alert.office == w.nambu


def test_alerts_are_kept_with_their_history(alerts_world):
    w = alerts_world
    matched = send(w)
    unmatched = send(w, name="박모름")
    reasons = lambda a: [h.history_change_reason for h in a.history.order_by("history_id")]  # noqa: E731
    assert reasons(matched) == ["외부 기관 알림 접수", "학교로 전달"]
    assert reasons(unmatched) == ["외부 기관 알림 접수", "교육지원청으로 전달"]
    assert {h.history_user for h in Alert.history.all()} == {w["police"]}
    [row] = matched.concern.history.all()
    assert row.history_change_reason == "외부 기관 알림으로 지원 요청"
