"""Triage with the teacher's text in front of the coordinator: the concern list, the work queue
and the concern page; and the case list that explains itself when it is empty."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation

from casework import access
from casework.models import AccessEvent, Case, Concern, Notification
from casework.workflows import intake
from tests.builders import as_user
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db

TEXT = (
    "쉬는 시간마다 혼자 복도에 서 있고 점심을 거의 먹지 않습니다. 집에 가기 싫다는 말을 자주"
    " 하고, 준비물을 챙겨 오지 못하는 날이 이번 달에만 여러 번 있었습니다. 보호자와는 아직"
    " 연락이 닿지 않았습니다.\n어제는 수업 중에 울었습니다."
)


def raise_urgent(world, name="한결", description=TEXT, urgency="urgent"):
    student = StudentFactory(school=world.school, name=name, grade=4, class_no=2)
    return intake.raise_concern(
        by=world["teacher"],
        student=student,
        difficulties=["psychological"],
        description=description,
        urgency=urgency,
    )


def today_in_korean() -> str:
    with translation.override("ko"):
        return formats.date_format(timezone.localdate(), "DATE_FORMAT")


def test_list_and_queue_show_the_text_the_urgency_and_who_raised_it(client, world):
    concern = raise_urgent(world)
    as_user(client, world, "coordinator")
    for url in (reverse("casework:concern_list"), reverse("casework:queue")):
        body = client.get(url).content.decode()
        assert "쉬는 시간마다 혼자 복도에" in body, url  # the start of the description
        assert "어제는 수업 중에 울었습니다" not in body, url  # the rest is on the concern page
        assert re.search(r'krds-badge bg-danger">\s*긴급', body), url
        assert world["teacher"].name in body and today_in_korean() in body, url
        assert "심리·정서" in body, url
        assert reverse("casework:concern_detail", args=[concern.pk]) in body, url


def test_high_urgency_is_not_red(client, world):
    concern = raise_urgent(world, urgency="high")
    body = as_user(client, world, "coordinator").get(reverse("casework:queue")).content.decode()
    card = body[body.index(f'id="queue-concern-{concern.pk}"') :].split("</article>")[0]
    assert re.search(r'krds-badge bg-warning">\s*높음', card)
    assert "bg-danger" not in card


def test_concern_page_shows_everything_and_the_triage_buttons(client, world):
    concern = raise_urgent(world)
    as_user(client, world, "coordinator")
    before = AccessEvent.objects.count()
    response = client.get(reverse("casework:concern_detail", args=[concern.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "연락이 닿지 않았습니다.<br>어제는 수업 중에 울었습니다." in body
    assert "긴급" in body and "심리·정서" in body and world["teacher"].name in body
    assert reverse("casework:student_detail", args=[concern.student_id]) in body
    for label in ("사례 개설하기", "지원 불필요로 처리", "지원이 필요하지 않은 사유"):
        assert label in body
    assert "에 연결" not in body  # no open case to attach to
    assert AccessEvent.objects.count() == before + 1
    event = AccessEvent.objects.latest("occurred_at")
    assert (event.action, event.object_type, event.object_ids) == (
        "view",
        "concern",
        [str(concern.pk)],
    )


def test_raising_teacher_reads_the_page_without_the_triage_form(client, world):
    concern = raise_urgent(world)
    body = (
        as_user(client, world, "teacher")
        .get(reverse("casework:concern_detail", args=[concern.pk]))
        .content.decode()
    )
    assert "어제는 수업 중에 울었습니다" in body
    assert "사례 개설하기" not in body and "concern_triage" not in body
    refused = client.post(
        reverse("casework:concern_triage", args=[concern.pk]), {"decision": "open_case"}
    )
    assert refused.status_code == 403


def test_foreign_coordinator_gets_404(client, world):
    concern = raise_urgent(world)
    as_user(client, world, "coordinator2")
    assert client.get(reverse("casework:concern_detail", args=[concern.pk])).status_code == 404


def test_no_action_without_a_reason_shows_the_error_beside_the_field(client, world):
    concern = raise_urgent(world)
    as_user(client, world, "coordinator")
    response = client.post(
        reverse("casework:concern_triage", args=[concern.pk]),
        {"decision": "no_action", "reason": "  "},
    )
    assert response.status_code == 400
    body = response.content.decode()
    field = body.index(f'id="reason-{concern.pk}"')
    error = body.index(f'<p class="form-hint-invalid" id="reason-{concern.pk}-error">')
    assert 0 < error - field < 400
    assert "조치하지 않는 사유를 적어 주세요." in body[error:]
    assert 'aria-invalid="true"' in body[field - 200 : error]
    assert "어제는 수업 중에 울었습니다" in body  # still reading the teacher's text
    assert Concern.objects.get(pk=concern.pk).status == "open"

    done = client.post(
        reverse("casework:concern_triage", args=[concern.pk]),
        {"decision": "no_action", "reason": "담임 관찰 후 다시 요청하기로 함"},
        follow=True,
    )
    assert "지원 불필요로 처리했습니다" in done.content.decode()
    assert Concern.objects.get(pk=concern.pk).triage == "no_action"


def test_attach_names_the_open_case_and_the_page_shows_the_outcome(client, world):
    concern = raise_urgent(world)
    case = intake.open_case(by=world["coordinator"], student=concern.student, difficulties=[])
    as_user(client, world, "coordinator")
    url = reverse("casework:concern_detail", args=[concern.pk])
    assert f"진행 중인 사례 {case.number}에 연결" in client.get(url).content.decode()
    client.post(reverse("casework:concern_triage", args=[concern.pk]), {"decision": "attach"})
    assert Concern.objects.get(pk=concern.pk).case == case
    body = client.get(url).content.decode()
    assert "기존 사례에 연결" in body and "사례 개설하기" not in body
    assert reverse("casework:case_detail", args=[case.pk]) in body
    # The raising teacher is not on the team: the outcome, not the case.
    teacher_view = as_user(client, world, "teacher").get(url).content.decode()
    assert "기존 사례에 연결" in teacher_view
    assert reverse("casework:case_detail", args=[case.pk]) not in teacher_view


def test_opening_a_case_from_the_page_lands_on_the_case(client, world):
    concern = raise_urgent(world)
    as_user(client, world, "coordinator")
    response = client.post(
        reverse("casework:concern_triage", args=[concern.pk]), {"decision": "open_case"}
    )
    case = Case.objects.get(student=concern.student)
    assert response["Location"] == reverse("casework:case_detail", args=[case.pk])


def test_the_teachers_triage_notice_opens_the_concern_page(world):
    concern = raise_urgent(world)
    intake.triage_concern(
        concern, by=world["coordinator"], decision="no_action", reason="담임 상담으로 충분"
    )
    notice = Notification.objects.get(recipient=world["teacher"], kind="concern_triaged")
    assert notice.url == reverse("casework:concern_detail", args=[concern.pk])


def test_concern_list_queries_do_not_grow_with_rows(client, world):
    as_user(client, world, "coordinator")
    counts = []
    for n in (2, 7):
        for i in range(n):
            raise_urgent(world, name=f"학생{n}{i}")
        client.get(reverse("casework:concern_list"))  # the session's first renewal
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("casework:concern_list")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


# --- The case list when it is empty ------------------------------------------------------------


def test_teacher_without_cases_is_told_what_the_list_holds_and_what_to_do(client, world):
    body = as_user(client, world, "teacher").get(reverse("casework:case_list")).content.decode()
    assert "조건에 맞는 사례가 없습니다" not in body
    assert "내가 사례 팀에 참여한 사례만 표시됩니다" in body
    assert f'href="{reverse("casework:concern_list")}"' in body and "내 지원 요청 보기" in body
    assert f'href="{reverse("casework:concern_new")}"' in body and "지원 요청하기" in body


def test_a_filter_that_matches_nothing_says_so_and_offers_to_clear_it(client, world):
    as_user(client, world, "teacher")
    body = client.get(reverse("casework:case_list"), {"q": "없는이름"}).content.decode()
    assert "조건에 맞는 사례가 없습니다" in body and "필터 지우기" in body
    assert "내가 사례 팀에 참여한 사례만 표시됩니다" not in body
    rows = client.get(
        reverse("casework:case_list"), {"mine": "1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "조건에 맞는 사례가 없습니다" in rows and "<html" not in rows


def test_coordinator_without_cases_is_told_the_list_holds_the_schools(client, world):
    body = as_user(client, world, "coordinator").get(reverse("casework:case_list")).content.decode()
    assert f"{world.school.name}의 사례와 내가 사례 팀에 참여한 사례가 표시됩니다" in body
    assert reverse("casework:queue") in body


def test_organizations_seeing_cases_follow_the_grants(world):
    assert access.organizations_seeing_cases(world["teacher"]) == []
    assert access.organizations_seeing_cases(world["counselor"]) == []
    assert access.organizations_seeing_cases(world["coordinator"]) == [world.school]
    assert access.organizations_seeing_cases(world["principal"]) == [world.school]
    assert access.organizations_seeing_cases(world["casemanager"]) == [world.nambu]
    assert access.organizations_seeing_cases(world["partner"]) == []
