"""The demo's oversight (DEMO.md, DESIGN.md §9): last month's access events under 서울특별시교육청,
varied enough that the monthly review built from them shows findings the moment `privacy` logs in.

Everyone reads in working hours on business days; besides, the coordinator reads at night and on a
weekend and downloads a case with and without a reason, the district case manager reads far more
than usual (and cases outside their caseload), a former teacher reads after their membership
ended, and the privacy officer breaks the glass on one case. The review is built and the officer
has asked the coordinator to explain the night reads, so the coordinator's notifications hold a
question to answer.
"""

import random
from datetime import date, datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from casework import access, audit
from casework.deadlines import is_business_day
from casework.models import AccessReview, BreakGlass, Case, ReviewFinding
from casework.workflows import reviews
from casework.workflows.common import save
from partners.models import Membership, Organization, User

PROVINCE = "B10"
READERS = (
    "teacher",
    "counselor",
    "coordinator",
    "vice",
    "principal",
    "coordinator2",
    "casemanager",
    "casemanager2",
    "centrehead",
    "partner",
    "partner2",
)
HEAVY_READS = 420
QUESTION = "지난달 밤 10시 이후와 주말에 사례를 연 까닭을 알려 주세요."


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _read(user: User, when: datetime, cases: list[Case], rng: random.Random, **extra) -> None:
    if cases:
        case = rng.choice(cases)
        audit.record_access_at(
            when,
            user,
            extra.pop("action", "view"),
            "case",
            [case],
            case=case,
            student=case.student,
            **extra,
        )
    else:
        audit.record_access_at(when, user, "list", "case", [], **extra)


def seed_demo_oversight(rng: random.Random, today: date) -> AccessReview | None:
    """Last month's reads and its review; None (and nothing done) when the review is there."""
    province = Organization.objects.filter(code=PROVINCE).first()
    month = reviews.previous_month(today)
    if province is None or AccessReview.objects.filter(office=province, month=month).exists():
        return None
    last = reviews.add_months(month, 1) - timedelta(days=1)
    days = [month + timedelta(days=i) for i in range((last - month).days + 1)]
    work = [d for d in days if is_business_day(d)]
    weekend = next(d for d in days if not is_business_day(d))
    users = {u.username: u for u in User.objects.filter(username__in=[*READERS, "privacy"])}
    seen = {
        name: list(access.visible_cases(user).order_by("number")[:30])
        for name, user in users.items()
    }
    for name in READERS:
        if name not in users:
            continue
        for _ in range(rng.randint(15, 40)):
            when = _at(rng.choice(work), rng.randint(9, 17), rng.randint(0, 59))
            _read(users[name], when, seen[name], rng)
    if "coordinator" in users:
        coordinator = users["coordinator"]
        for day, hour in ((work[3], 22), (work[8], 23), (weekend, 11)):
            _read(coordinator, _at(day, hour, rng.randint(0, 59)), seen["coordinator"], rng)
        _read(
            coordinator,
            _at(work[5], 15),
            seen["coordinator"],
            rng,
            action="download",
            reason="학교 지원팀 회의 자료",
        )
        _read(coordinator, _at(work[6], 16), seen["coordinator"], rng, action="export")
    if "casemanager" in users:
        manager = users["casemanager"]
        for i in range(HEAVY_READS):
            when = _at(work[10 % len(work)], 9) + timedelta(seconds=40 * i)
            _read(manager, when, seen["casemanager"], rng)
    _former_teacher(work, rng)
    if "privacy" in users:
        _break_glass(users["privacy"], province, work[4], rng)
    review = reviews.build_review(province, month)
    finding = review.findings.filter(
        kind=ReviewFinding.Kind.AFTER_HOURS, user__username="coordinator"
    ).first()
    if finding is not None and "privacy" in users:
        reviews.ask(finding, by=users["privacy"], question=QUESTION)
    return review


def _former_teacher(work: list[date], rng: random.Random) -> None:
    """A teacher of 이음초등학교 who left mid-month and still read four times (no login)."""
    school = Organization.objects.filter(code="S0001").first()
    if school is None:
        return
    user, _created = User.objects.get_or_create(
        username="former-teacher",
        defaults={"name": "유지호", "password": make_password(None), "is_active": False},
    )
    start = work[0] - timedelta(days=200)
    membership, _created = Membership.objects.get_or_create(
        user=user,
        organization=school,
        role="teacher",
        defaults={
            "started_on": start,
            "ended_on": work[6],
            "active": False,
            "approved_on": start,
            "approval_expires_on": start + timedelta(days=365),
            "training_completed_on": start,
            "title": "담임",
        },
    )
    cases = list(Case.objects.filter(owner=school).order_by("number")[:5])
    for i in range(4):
        _read(user, _at(work[9], 10 + i), cases, rng, membership=membership)


def _break_glass(officer: User, province: Organization, day: date, rng: random.Random) -> None:
    """The officer opened one case of 이음초등학교 for an hour, with a reason."""
    case = Case.objects.filter(owner__code="S0001").order_by("number").first()
    membership = Membership.objects.filter(user=officer, organization=province).first()
    if case is None or membership is None:
        return
    reason = "학생 안전 확인 요청(교육지원청 전화): 담당자 연락 두절"
    opened = _at(day, 14)
    opening = BreakGlass(
        case=case,
        user=officer,
        membership=membership,
        reason=reason,
        opened_at=opened,
        expires_at=opened + timedelta(hours=4),
        ended_at=opened + timedelta(hours=1),
    )
    save(opening, officer, "긴급 열람")
    for minutes in (0, 5, 20):
        audit.record_access_at(
            opened + timedelta(minutes=minutes),
            officer,
            "break_glass",
            "case",
            [case],
            case=case,
            student=case.student,
            membership=membership,
            reason=reason,
        )
