"""Every list page sorts by the columns it offers (and only those: any other `?sort=` is the
page's default order, not an error), and keeps its filters and sort for the next visit."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import access, auditlog
from casework.audit import record_access
from casework.models import AccessEvent, AccessReview, Case
from casework.workflows import intake, lifecycle
from tests import factories
from tests.builders import as_user

pytestmark = pytest.mark.django_db
BAD_SORTS = ("password", "-student__password", "--number", "pk", "%00", "number;drop", "-")


@pytest.fixture
def cases(world):
    """Three cases of 이음초등학교 whose number, student, status and risk all order differently."""
    made = []
    for number, name, status, risk, days in (
        ("2026-S0001-0002", "가나다", "active", "urgent", 3),
        ("2026-S0001-0003", "다라마", "identified", "watch", 1),
        ("2026-S0001-0001", "나다라", "monitoring", "caution", 2),
    ):
        student = factories.StudentFactory(school=world.school, name=name)
        case = factories.CaseFactory(
            owner=world.school, student=student, number=number, status=status, risk_level=risk
        )
        access.grant_case_to_owner_school(case)
        Case.objects.filter(pk=case.pk).update(updated_at=timezone.now() - timedelta(days=days))
        made.append(case)
    return made


def numbers(answer) -> list[str]:
    assert answer.status_code == 200
    return [case.number for case in answer.context["page"]]


def test_the_case_list_sorts_by_each_column(client, world, cases):
    as_user(client, world, "coordinator")
    url = reverse("casework:case_list")
    assert numbers(client.get(url)) == ["2026-S0001-0003", "2026-S0001-0001", "2026-S0001-0002"]
    assert numbers(client.get(url + "?sort=number")) == [
        "2026-S0001-0001",
        "2026-S0001-0002",
        "2026-S0001-0003",
    ]
    assert numbers(client.get(url + "?sort=-number"))[0] == "2026-S0001-0003"
    assert numbers(client.get(url + "?sort=student"))[0] == "2026-S0001-0002"  # 가나다
    # Status in the order of the case's life, risk from the lowest.
    assert numbers(client.get(url + "?sort=status"))[0] == "2026-S0001-0003"  # 발굴
    assert numbers(client.get(url + "?sort=-risk"))[0] == "2026-S0001-0002"  # 긴급
    assert numbers(client.get(url + "?sort=updated"))[0] == "2026-S0001-0002"


def test_the_case_list_header_says_how_it_is_sorted(client, world, cases):
    as_user(client, world, "coordinator")
    page = client.get(reverse("casework:case_list") + "?sort=number&status=").content.decode()
    assert 'aria-sort="ascending"' in page
    assert 'href="?status=&amp;sort=-number"' in page
    assert "정렬: 오름차순" in page
    # The htmx answer (the rows) carries the same headers.
    rows = client.get(reverse("casework:case_list") + "?sort=-number", HTTP_HX_REQUEST="true")
    assert 'aria-sort="descending"' in rows.content.decode()
    assert "<html" not in rows.content.decode()


def test_the_case_list_keeps_its_filters_until_reset(client, world, cases):
    as_user(client, world, "coordinator")
    url = reverse("casework:case_list")
    assert numbers(client.get(url + "?status=active&q=&sort=number")) == ["2026-S0001-0002"]
    client.get(reverse("casework:case_detail", args=[cases[1].pk]))
    back = client.get(url)
    assert numbers(back) == ["2026-S0001-0002"]
    assert back.context["params"]["status"] == "active"
    assert "필터 초기화" in back.content.decode()
    assert numbers(client.get(url + "?reset=1")) == [
        "2026-S0001-0003",
        "2026-S0001-0001",
        "2026-S0001-0002",
    ]
    assert len(numbers(client.get(url))) == 3


def test_a_kept_filter_does_not_follow_to_another_user(client, world, cases):
    as_user(client, world, "coordinator")
    client.get(reverse("casework:case_list") + "?status=active")
    client.logout()
    as_user(client, world, "principal")
    assert len(numbers(client.get(reverse("casework:case_list")))) == 3


def test_the_school_overview_sorts(client, world, cases):
    as_user(client, world, "principal")
    url = reverse("casework:school_overview")
    assert numbers(client.get(url + "?sort=number"))[0] == "2026-S0001-0001"
    assert numbers(client.get(url + "?sort=-number"))[0] == "2026-S0001-0003"


@pytest.fixture
def concerns(world):
    made = []
    for name, urgency, days in (("가람", "normal", 2), ("나래", "urgent", 1), ("다솜", "high", 3)):
        student = factories.StudentFactory(school=world.school, name=name)
        concern = intake.raise_concern(
            by=world["teacher"], student=student, difficulties=["economic"], urgency=urgency
        )
        concern.created_at = timezone.now() - timedelta(days=days)
        concern.save(update_fields=["created_at"])
        made.append(concern)
    return made


def test_the_concern_list_sorts_by_date_urgency_and_status(client, world, concerns):
    as_user(client, world, "coordinator")
    url = reverse("casework:concern_list")

    def names(query):
        answer = client.get(url + query)
        assert answer.status_code == 200
        return [c.student.name for c in answer.context["page"]]

    assert names("") == ["나래", "가람", "다솜"]  # open ones first, newest first
    assert names("?sort=created") == ["다솜", "가람", "나래"]
    assert names("?sort=-created") == ["나래", "가람", "다솜"]
    assert names("?sort=-urgency") == ["나래", "다솜", "가람"]
    assert names("?sort=student") == ["가람", "나래", "다솜"]
    assert names("?status=triaged") == []
    assert "조건에 맞는 지원 요청이 없습니다" in client.get(url).content.decode()  # kept
    assert names("?reset=1") == ["나래", "가람", "다솜"]


def test_the_student_list_sorts_by_name_and_class(client, world):
    for name, grade, class_no in (("하늘", 1, 3), ("가람", 2, 1), ("나래", 1, 2)):
        factories.StudentFactory(school=world.school, name=name, grade=grade, class_no=class_no)
    as_user(client, world, "coordinator")
    url = reverse("casework:student_list")

    def names(query):
        answer = client.get(url + query)
        assert answer.status_code == 200
        return [s.name for s in answer.context["page"]]

    assert names("") == ["나래", "하늘", "가람"]
    assert names("?sort=name") == ["가람", "나래", "하늘"]
    assert names("?sort=-grade") == ["가람", "하늘", "나래"]
    assert names("?sort=class") == ["가람", "나래", "하늘"]
    assert names("?grade=1") == ["나래", "하늘"]
    assert names("") == ["나래", "하늘"]  # the filter came back
    assert names("?sort=-name") == ["하늘", "나래"]  # the sort keeps it too


def test_a_refused_filter_is_not_kept(client, world):
    as_user(client, world, "coordinator")
    url = reverse("casework:student_list")
    assert client.get(url + "?grade=abc").status_code == 400
    assert client.get(url).status_code == 200


def test_the_referral_list_sorts_by_date_due_and_status(client, world, granted_case):
    today = timezone.localdate()
    made = []
    for status, due in (("sent", 5), ("accepted", 1), ("draft", None)):
        made.append(
            factories.ReferralFactory(
                case=granted_case,
                from_organization=world.school,
                to_organization=world.partner_org,
                status=status,
                respond_by=today + timedelta(days=due) if due else None,
            )
        )
    as_user(client, world, "coordinator")
    url = reverse("casework:referral_list") + "?box=outbox&status=all"

    def order(query):
        answer = client.get(url + query)
        assert answer.status_code == 200
        return [made.index(e["referral"]) for e in answer.context["entries"]]

    assert order("") == [2, 1, 0]  # newest first
    assert order("&sort=requested") == [0, 1, 2]
    assert order("&sort=due") == [1, 0, 2]  # no date last
    assert order("&sort=-due") == [0, 1, 2]  # no date last, this way too
    assert order("&sort=status") == [2, 0, 1]  # 작성 중, 발송, 수락
    page = client.get(url + "&sort=due").content.decode()
    assert "sort=-due" in page and 'aria-sort="ascending"' in page


def test_the_access_log_sorts_by_time_both_ways_across_pages(client, world, opened_case):
    for _ in range(
        auditlog.PAGE_SIZE + 5
    ):  # the log is append-only: the reads come one after another
        record_access(world["coordinator"], "view", "case", [opened_case], case=opened_case)
    first = AccessEvent.objects.filter(case=opened_case).order_by("occurred_at", "id").first()
    as_user(client, world, "privacy")
    url = reverse("casework:access_log") + f"?case={opened_case.number}"
    newest = client.get(url).context["page"]
    oldest = client.get(url + "&sort=time").context["page"]
    assert [e.occurred_at for e in newest.rows] == sorted(
        (e.occurred_at for e in newest.rows), reverse=True
    )
    times = [e.occurred_at for e in oldest.rows]
    assert times == sorted(times) and oldest.rows[0] == first
    following = client.get(url + f"&sort=time&cursor={oldest.cursor}").context["page"]
    assert following.rows and following.rows[0].occurred_at >= times[-1]
    assert not {e.pk for e in following.rows} & {e.pk for e in oldest.rows}
    # Back without parameters: the case and the order come back, the cursor does not.
    again = client.get(reverse("casework:access_log"))
    assert again.context["filters"].data["case"] == opened_case.number
    assert again.context["page"].rows[0] == first


def test_the_review_list_sorts_by_month_and_status(client, world):
    for month, status in ((date(2026, 9, 1), "reviewed"), (date(2026, 10, 1), "built")):
        AccessReview.objects.create(office=world.province, month=month, status=status)
    as_user(client, world, "privacy")
    url = reverse("casework:review_list")

    def months(query):
        answer = client.get(url + query)
        assert answer.status_code == 200
        return [r.month.month for r, _open in answer.context["reviews"]]

    assert months("") == [10, 9]
    assert months("?sort=month") == [9, 10]
    assert months("?sort=-status") == [9, 10]


def test_the_meeting_list_filters_by_kind_and_sorts_by_date(client, world):
    for held, kind in ((date(2026, 9, 1), "case_review"), (date(2026, 10, 1), "school_team")):
        lifecycle.record_meeting(
            by=world["coordinator"], organization=world.school, kind=kind, held_on=held
        )
    as_user(client, world, "coordinator")
    url = reverse("casework:meeting_list")

    def held(query):
        answer = client.get(url + query)
        assert answer.status_code == 200
        return [m.held_on.month for m in answer.context["page"]]

    assert held("") == [10, 9]
    assert held("?sort=held") == [9, 10]
    assert held("?kind=case_review") == [9]
    assert held("") == [9]  # the filter is kept for the next visit
    answer = client.get(url + "?kind=local_committee")
    assert "이 종류로 기록된 회의가 없습니다" in answer.content.decode()
    assert held("?reset=1") == [10, 9]


@pytest.mark.parametrize(
    "name,username",
    [
        ("casework:case_list", "coordinator"),
        ("casework:school_overview", "principal"),
        ("casework:concern_list", "coordinator"),
        ("casework:student_list", "coordinator"),
        ("casework:referral_list", "partner"),
        ("casework:access_log", "privacy"),
        ("casework:review_list", "privacy"),
        ("casework:meeting_list", "coordinator"),
    ],
)
def test_a_sort_the_page_does_not_offer_is_its_default_order(client, world, name, username):
    as_user(client, world, username)
    url = reverse(name)
    for bad in BAD_SORTS:
        answer = client.get(url, {"sort": bad})
        assert answer.status_code in (200, 400), bad  # NUL is the middleware's 400
        if bad != "%00":
            assert answer.status_code == 200, bad
            assert answer.context["listing"].sort == answer.context["listing"].default
    assert client.get(url, {"sort": ["number", "-number"]}).status_code == 200
