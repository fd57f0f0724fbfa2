"""A first half of 2026 to count (tests/casework/reports/): cases, selections, referrals and
escalations at three schools, with the dates set where the report looks for them.

- 이음초등학교 (남부): six cases opened 10 February and still open, domains counselling and
  learning, living in 금천구, each raised as a concern on 1 February and selected ten days later
  (the sixth twenty); five of them referred on 1 March and completed ten days later, the sixth
  referred on 1 April and declined; one escalated on 1 May, still waiting. Two cases opened in
  November 2025 and closed on 5 March; one opened 15 January and not selected on 20 January;
  one closed in 2025 and one opened in July, outside the half.
- 새싹초등학교 (남부): five cases opened 1 April, still open, domain welfare.
- 한빛초등학교 (북부): seven cases opened 1 March, still open, domain welfare.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest

from casework.models import Case, Concern, Decision, Referral
from casework.reports import facts
from tests import factories as f

SEOUL = ZoneInfo("Asia/Seoul")
SINCE, UNTIL = datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=SEOUL)


def make_case(world, school, opened, *, status="active", ended=None, domains=(), borough=None):
    student = f.StudentFactory(school=school, home_borough=borough)
    case = f.CaseFactory(
        owner=school,
        student=student,
        status=status,
        domains=list(domains),
        difficulties=["psychological"] if domains else [],
        closure_reason="goals_met" if status == "closed" else "",
    )
    Case.objects.filter(pk=case.pk).update(
        opened_on=opened, closed_on=ended if status == "closed" else None, created_at=at(opened)
    )
    if status == "not_selected":
        decide(world, case, "not_select", ended)
    case.refresh_from_db()
    return case


def decide(world, case, decision, day):
    row = Decision.objects.create(
        case=case, decision=decision, reasons="회의 결정", decided_by=world["coordinator"]
    )
    Decision.objects.filter(pk=row.pk).update(decided_at=at(day))


def concern(world, case, day):
    row = Concern.objects.create(
        student=case.student, school=case.owner, raised_by=world["teacher"], case=case
    )
    Concern.objects.filter(pk=row.pk).update(created_at=at(day))


def referral(world, case, *, kind="service", status, sent, closed=None):
    to = world.partner_org if kind == "service" else world.nambu
    return f.ReferralFactory(
        case=case,
        kind=kind,
        to_organization=to,
        status=status,
        sent_at=at(sent),
        closed_at=at(closed) if closed else None,
        outcome="상담 종결" if status == "completed" else "",
    )


@pytest.fixture
def half(world):
    """The first half of 2026 described above; returns the third school (새싹초등학교)."""
    d = datetime.date
    world.third_school = f.SchoolFactory(code="S0002", name="새싹초등학교", parent=world.nambu)
    active = [
        make_case(
            world,
            world.school,
            d(2026, 2, 10),
            domains=["counselling", "learning"],
            borough=world.borough,
        )
        for _ in range(6)
    ]
    for n, case in enumerate(active):
        concern(world, case, d(2026, 2, 1))
        decide(world, case, "select", d(2026, 2, 21) if n == 5 else d(2026, 2, 11))
        if n < 5:
            referral(world, case, status="completed", sent=d(2026, 3, 1), closed=d(2026, 3, 11))
        else:
            referral(world, case, status="declined", sent=d(2026, 4, 1), closed=d(2026, 4, 3))
    referral(world, active[0], kind="escalation", status="received", sent=d(2026, 5, 1))
    for _ in range(2):
        make_case(world, world.school, d(2025, 11, 1), status="closed", ended=d(2026, 3, 5))
    make_case(world, world.school, d(2026, 1, 15), status="not_selected", ended=d(2026, 1, 20))
    make_case(world, world.school, d(2025, 10, 1), status="closed", ended=d(2025, 12, 1))
    make_case(world, world.school, d(2026, 7, 5))
    for _ in range(5):
        make_case(world, world.third_school, d(2026, 4, 1), domains=["welfare"])
    for _ in range(7):
        make_case(world, world.other_school, d(2026, 3, 1), domains=["welfare"])
    assert Referral.objects.count() == 7
    facts.rebuild()  # some dates above are set without history, which a refresh follows
    return world


@pytest.fixture
def committee_half(half):
    """`half` with what the committee report counts besides (tests/casework/reports/
    test_committee.py), all at 남부:

    - 2026H1: five escalations of 새싹초등학교's cases sent 6 April, due 13 April, three
      accepted on 10 April and two declined on 20 April (late); the waiting escalation of
      이음초등학교 (1 May) due 8 May and never answered; five service referrals of 새싹's cases
      to a community centre sent 4 May, due 11 May, never answered.
    - 2025H2: the two cases of 이음 opened in November 2025 selected on 5 November, each
      referred to the youth centre on 10 November and completed on 20 November.
    """
    d = datetime.date
    world = half
    centre = f.OrganizationFactory(
        code="P-COMMUNITY", name="독산1동 행정복지센터", kind="community_center", agency_type=""
    )
    world.community_centre = centre
    saessak = list(Case.objects.filter(owner=world.third_school).order_by("created_at"))
    for n, case in enumerate(saessak):
        row = referral(world, case, kind="escalation", status="sent", sent=d(2026, 4, 6))
        if n < 3:
            changes = {"status": "accepted", "accepted_at": at(d(2026, 4, 10))}
        else:
            changes = {"status": "declined", "closed_at": at(d(2026, 4, 20))}
        Referral.objects.filter(pk=row.pk).update(respond_by=d(2026, 4, 13), **changes)
        row = f.ReferralFactory(
            case=case, to_organization=centre, status="sent", sent_at=at(d(2026, 5, 4))
        )
        Referral.objects.filter(pk=row.pk).update(respond_by=d(2026, 5, 11))
    Referral.objects.filter(kind="escalation", case__owner=world.school).update(
        respond_by=d(2026, 5, 8)
    )
    for case in Case.objects.filter(owner=world.school, opened_on=d(2025, 11, 1)):
        decide(world, case, "select", d(2025, 11, 5))
        referral(world, case, status="completed", sent=d(2025, 11, 10), closed=d(2025, 11, 20))
    facts.rebuild()
    return world
