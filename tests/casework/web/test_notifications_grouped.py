"""The notifications page: each notification names its student and case, and they come grouped by
case (the case heard of last first), with what is read and unread; a notification tells its
reader no more than the reader may see."""

import pytest
from django.urls import reverse

from casework.models import Concern, Notification
from casework.notify import notify
from casework.workflows import intake, lifecycle
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db


def raised_and_opened(world, name):
    """The teacher raises a concern about `name`; the coordinator opens a case for it."""
    concern = intake.raise_concern(
        by=world["teacher"],
        student=StudentFactory(school=world.school, name=name),
        difficulties=["psychological"],
        description="수업 중 관찰",
    )
    return intake.triage_concern(concern, by=world["coordinator"], decision="open_case").case


def test_the_teacher_is_told_which_student_and_case_a_review_was_about(world):
    case = raised_and_opened(world, "오하람")
    row = Notification.objects.get(recipient=world["teacher"], kind="concern_triaged")
    assert row.display_title == f"오하람 학생({case.number}) 지원 요청 검토 결과: 사례 개설"
    assert row.case == case  # it belongs with the case's other news


def test_a_review_without_a_case_names_only_the_student(world):
    concern = intake.raise_concern(
        by=world["teacher"],
        student=StudentFactory(school=world.school, name="한결"),
        difficulties=["health"],
    )
    intake.triage_concern(
        concern, by=world["coordinator"], decision=Concern.Triage.NO_ACTION, reason="충분함"
    )
    row = Notification.objects.get(recipient=world["teacher"], kind="concern_triaged")
    assert row.display_title == "한결 학생 지원 요청 검토 결과: 조치 없음"
    assert row.case is None


def test_the_principal_hears_of_each_case_by_student_and_number(world):
    case = raised_and_opened(world, "오하람")
    lifecycle.transition_case(case, by=world["coordinator"], to="reviewing")
    titles = set(
        Notification.objects.filter(recipient=world["principal"]).values_list("title", flat=True)
    )
    assert titles == {
        f"오하람 학생({case.number}) 사례 개설",
        f"오하람 학생({case.number}): 검토 중",
    }


def test_the_page_groups_notifications_by_case_newest_case_first(client, world):
    first = raised_and_opened(world, "가온")
    second = raised_and_opened(world, "나래")
    lifecycle.transition_case(first, by=world["coordinator"], to="reviewing")  # 가온's is newest
    notify([world["principal"]], kind="referral_assigned", params={"number": "X-R01"})
    Notification.objects.filter(recipient=world["principal"], case=second).update(
        read_at="2026-01-01T09:00:00+09:00"
    )

    client.force_login(world["principal"])
    answer = client.get(reverse("casework:notifications"))
    groups = answer.context["groups"]
    assert [g["case"] for g in groups] == [None, first, second]
    assert [g["student"] for g in groups[1:]] == ["가온", "나래"]
    assert [n.kind for n in groups[1]["notifications"]] == ["case_status", "case_opened"]
    assert [g["unread"] for g in groups] == [1, 2, 0]
    page = answer.content.decode()
    assert page.index(first.number) < page.index(second.number)
    assert reverse("casework:case_detail", args=[first.pk]) in page
    assert "사례와 관계없는 알림" in page
    assert "읽음" in page and "새 알림" in page and "모두 읽음으로 표시" in page


def test_a_case_the_reader_cannot_view_is_not_linked(client, world):
    """The teacher who raised the concern is told the student and the case number, but does not
    hold the case: its heading links nowhere and says only what the notification told her."""
    case = raised_and_opened(world, "오하람")
    client.force_login(world["teacher"])
    answer = client.get(reverse("casework:notifications"))
    (group,) = answer.context["groups"]
    assert group["case"] == case and not group["viewable"] and group["student"] == "오하람"
    page = answer.content.decode()
    assert case.number in page and "오하람 학생" in page
    assert reverse("casework:case_detail", args=[case.pk]) not in page


def test_grouping_costs_no_query_per_row(client, world, django_assert_max_num_queries):
    for name in ("가온", "나래", "다솜", "라온"):
        lifecycle.transition_case(
            raised_and_opened(world, name), by=world["coordinator"], to="reviewing"
        )
    client.force_login(world["principal"])
    client.get(reverse("casework:notifications"))
    with django_assert_max_num_queries(12):
        answer = client.get(reverse("casework:notifications"))
    assert len(answer.context["groups"]) == 4
