"""Concurrent transitions on the real PostgreSQL: many requests at once in real threads, each on
its own database connection. Of a race for one state change exactly one wins and the others get
409 with the reason; nothing answers 500 and nothing is written twice."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date as datetime_date

import pytest
from django.db import connection
from rest_framework.test import APIClient

from casework.models import Case, Concern, Notification
from casework.workflows import intake
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


def race(world, username, method, path, bodies):
    """Send one request per body at the same moment; the status codes, sorted."""
    start = threading.Barrier(len(bodies))

    def one(body):
        client = APIClient()
        client.force_authenticate(world[username])
        try:
            start.wait(timeout=30)
            return getattr(client, method)(path, body, format="json").status_code
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return sorted(pool.map(one, bodies))


def test_concurrent_attach_triage_has_one_winner(world):
    student = StudentFactory(school=world.school, name="김하늘")
    case = intake.open_case(by=world["coordinator"], student=student, difficulties=["economic"])
    concern = intake.raise_concern(by=world["teacher"], student=student, difficulties=["economic"])
    before = Notification.objects.filter(kind="concern_triaged").count()

    codes = race(
        world,
        "coordinator",
        "post",
        f"/api/v1/concerns/{concern.pk}/triage/",
        [{"decision": "attach", "case": str(case.pk)}] * THREADS,
    )

    assert codes == [200] + [409] * (THREADS - 1)
    concern.refresh_from_db()
    assert concern.status == Concern.Status.TRIAGED and concern.case_id == case.pk
    assert concern.history.filter(status=Concern.Status.TRIAGED).count() == 1
    assert Notification.objects.filter(kind="concern_triaged").count() == before + 1


def test_concurrent_open_case_for_one_student_has_one_winner(world):
    student = StudentFactory(school=world.school, name="이하늘")

    codes = race(
        world,
        "coordinator",
        "post",
        "/api/v1/cases/",
        [{"student": str(student.pk), "difficulties": ["health"]}] * THREADS,
    )

    assert codes == [201] + [409] * (THREADS - 1)
    assert Case.objects.filter(student=student).count() == 1


def test_open_case_losing_on_the_unique_index_is_a_conflict(world, monkeypatch):
    """Even past the guard (a path that skipped the lock), the unique index's refusal is a 409."""
    from casework.workflows.errors import GuardFailed

    student = StudentFactory(school=world.school, name="박하늘")
    intake.open_case(by=world["coordinator"], student=student, difficulties=["health"])
    real_filter = Case.objects.filter

    class NoOpenCase:
        def exclude(self, *args, **kwargs):
            return Case.objects.none()

    def blind_filter(*args, **kwargs):
        if set(kwargs) == {"student"}:
            return NoOpenCase()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Case.objects, "filter", blind_filter)
    with pytest.raises(GuardFailed):
        intake.open_case(by=world["coordinator"], student=student, difficulties=["health"])
    monkeypatch.undo()
    assert Case.objects.filter(student=student).count() == 1


# --- The same class of race in the other workflows ---------------------------------------------


def at_once(work, count=8):
    """Run `work()` in `count` threads at the same moment; each outcome ("ok" or the exception's
    class name), sorted."""
    start = threading.Barrier(count)

    def one(_):
        try:
            start.wait(timeout=30)
            work()
            return "ok"
        except Exception as error:
            return type(error).__name__
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return sorted(pool.map(one, range(count)))


def test_concurrent_transfer_requests_give_one_transfer(world):
    from casework.models import Transfer
    from casework.workflows import transfers

    student = StudentFactory(school=world.school, name="최하늘")
    case = intake.open_case(by=world["coordinator"], student=student, difficulties=["health"])

    outcomes = at_once(
        lambda: transfers.request_transfer(
            case, by=world["coordinator"], to_school=world.other_school, reason="전학"
        )
    )

    assert outcomes == ["GuardFailed"] * 7 + ["ok"]
    assert Transfer.objects.filter(case=case).count() == 1


def test_concurrent_plans_get_their_own_sequence_numbers(world):
    import datetime

    from casework.models import SupportPlan
    from casework.workflows import lifecycle, planning

    student = StudentFactory(school=world.school, name="정하늘")
    case = intake.open_case(by=world["coordinator"], student=student, difficulties=["health"])
    lifecycle.transition_case(case, by=world["coordinator"], to="reviewing")
    today = datetime.date.today()

    outcomes = at_once(
        lambda: planning.create_plan(
            case,
            by=world["coordinator"],
            goals=["출석"],
            starts_on=today,
            review_on=today + datetime.timedelta(days=30),
        ),
        count=4,
    )

    assert outcomes == ["ok"] * 4
    sequences = sorted(SupportPlan.objects.filter(case=case).values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))


def test_concurrent_registrations_of_one_neis_id_give_one_student(world):
    from casework.choices import Sex
    from casework.models import Student
    from casework.workflows import students

    outcomes = at_once(
        lambda: students.create_student(
            by=world["coordinator"],
            school=world.school,
            name="한하늘",
            neis_id="N-RACE-1",
            birth_date=datetime_date(2015, 3, 1),
            sex=Sex.FEMALE,
            grade=3,
            class_no=1,
            number=7,
        ),
        count=4,
    )

    assert outcomes == ["ValidationError"] * 3 + ["ok"]
    assert Student.objects.filter(school=world.school, neis_id="N-RACE-1").count() == 1


def test_concurrent_removals_of_one_member_write_one_history_row(world):
    from casework.models import CaseMember
    from casework.workflows import team

    student = StudentFactory(school=world.school, name="윤하늘")
    case = intake.open_case(by=world["coordinator"], student=student, difficulties=["health"])
    teacher = world["teacher"]
    member = team.add_team_member(
        case, by=world["coordinator"], user=teacher, role="homeroom_teacher"
    )

    outcomes = at_once(lambda: team.remove_team_member(case, by=world["coordinator"], user=teacher))

    assert outcomes == ["GuardFailed"] * 7 + ["ok"]
    member = CaseMember.objects.get(pk=member.pk)
    assert member.history.filter(removed_at__isnull=False).count() == 1
