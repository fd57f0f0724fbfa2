"""Demo casework for `seed_demo` (DEMO.md "Demo casework"): about 300 students and 40 cases in
every status, driven through the workflow functions so grants, history and notifications are the
ones real use would leave. Deterministic (seeded), dated relative to today, and idempotent: when
the demo schools already have cases it does nothing."""

import random
from contextlib import nullcontext
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from casework import deadlines
from casework.instruments import instruments, items
from casework.models import Alert, Case, Guardian, Referral, Student, Transfer
from casework.notify import delivery, muted
from casework.workflows import alerts as alert_flows
from casework.workflows import intake, lifecycle, planning, records, team
from casework.workflows import referrals as referral_flows
from casework.workflows import transfers as transfer_flows
from casework.workflows.common import attribute
from partners.models import Organization, Service, User

from .oversight import seed_demo_oversight

SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = [
    "하늘",
    "서준",
    "지우",
    "서연",
    "민준",
    "하은",
    "도윤",
    "지민",
    "예준",
    "수아",
    "시우",
    "지아",
    "주원",
    "다은",
    "하준",
    "채원",
    "지호",
    "윤서",
    "준우",
    "소율",
    "건우",
    "예린",
    "현우",
    "유나",
    "우진",
    "서아",
    "선우",
    "하린",
    "연우",
    "지유",
]
GUARDIAN_RELATIONS = ["모", "부", "조모", "조부"]
SCHOOL_STUDENTS = {"S0001": 90, "S0002": 60, "S0003": 60, "S0004": 30, "S0005": 30, "S0006": 30}
# (status, how many) for 이음초등학교 (S0001) and 한빛초등학교 (S0003): 40 in all.
CASE_PLAN = {
    "S0001": [
        ("identified", 4),
        ("reviewing", 4),
        ("selected", 4),
        ("not_selected", 2),
        ("active", 10),
        ("monitoring", 4),
        ("closed", 4),
    ],
    "S0003": [("identified", 2), ("reviewing", 1), ("selected", 1), ("active", 3), ("closed", 1)],
}
# Cases in these states began months before the demo's fortnight: their story is written without
# notifications, which nobody would still be reading. The rest (new, under review, selected and
# waiting for a plan's approval) and every referral and transfer happened in the fortnight, so a
# teacher has a handful of notifications and the principal a few tens, as in real use.
BACK_STORY = {"not_selected", "active", "monitoring", "closed"}
# The homeroom teacher raises one concern in TEACHER_RAISES; the coordinator records the others
# (from other teachers, guardians and screening).
TEACHER_RAISES = 3
HEADS = {"S0001": ("coordinator", "vice", "principal"), "S0003": ("coordinator2", None, None)}
DIFFICULTY_SETS = [
    ["basic_learning"],
    ["economic", "care_safety"],
    ["psychological"],
    ["school_violence", "psychological"],
    ["borderline_intelligence", "basic_learning"],
    ["health"],
    ["dropout_risk", "psychological"],
    ["migrant_background", "basic_learning"],
]
DOMAINS_FOR = {
    "basic_learning": "learning",
    "borderline_intelligence": "learning",
    "economic": "welfare",
    "care_safety": "welfare",
    "health": "health",
    "dropout_risk": "career",
    "psychological": "counselling",
    "school_violence": "counselling",
    "migrant_background": "learning",
}


def _birth_date(rng: random.Random, school: Organization, grade: int, today: date) -> date:
    # Korean school year starts in March: a grade-1 pupil turns 7 (elementary) in that year.
    offset = {"middle": 12, "high": 15}.get(school.school_level, 6)
    year = today.year - offset - grade + (0 if today.month >= 3 else -1)
    return date(year, rng.randint(1, 12), rng.randint(1, 28))


def seed_students(rng: random.Random, today: date) -> dict[str, list[Student]]:
    by_school: dict[str, list[Student]] = {}
    for code, count in SCHOOL_STUDENTS.items():
        school = Organization.objects.filter(code=code).first()
        if school is None:
            continue
        borough = Organization.objects.filter(
            kind="local_government", region_code=school.region_code
        ).first()
        grades = 6 if school.school_level == "elementary" else 3
        students = []
        for i in range(count):
            grade = i % grades + 1
            class_no = i // grades % 3 + 1
            student = Student(
                school=school,
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                birth_date=_birth_date(rng, school, grade, today),
                sex=rng.choice(["male", "female"]),
                grade=grade,
                class_no=class_no,
                number=i // (grades * 3) + 1,
                neis_id=f"{code}-{i + 1:05d}",
                multicultural=rng.random() < 0.06,
                special_education=rng.random() < 0.03,
                benefit_status=rng.choice(
                    ["", "", "", "", "basic_livelihood", "near_poverty", "single_parent"]
                ),
                home_borough=borough,
            )
            attribute(student, None, "데모 데이터")
            student.save()
            guardian = Guardian(
                student=student,
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                relation=rng.choice(GUARDIAN_RELATIONS),
                phone=f"010-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}",
            )
            attribute(guardian, None, "데모 데이터")
            guardian.save()
            students.append(student)
        by_school[code] = students
    return by_school


def _user(username: str | None) -> User | None:
    return User.objects.filter(username=username).first() if username else None


def _drive(
    case: Case, target: str, *, rng, today, coordinator, vice, principal, counselor, teacher
):
    """Take a freshly opened case to `target` the way a school would."""
    if target == "identified":
        return case
    lifecycle.transition_case(case, by=coordinator, to="reviewing")
    if target == "reviewing":
        return case
    if target == "not_selected":
        lifecycle.transition_case(
            case, by=coordinator, to="not_selected", reason="학교 내 지원으로 충분하다고 판단"
        )
        return case
    school = case.owner
    chair = vice or coordinator
    lifecycle.record_meeting(
        by=chair,
        organization=school,
        kind="school_team",
        held_on=today - timedelta(days=rng.randint(20, 60)),
        attendees=[u for u in (vice, coordinator, teacher) if u],
        guests=[],
        minutes="학생맞춤통합지원 대상 선정을 위한 학교 내 논의",
        decisions=[
            {"case": case, "decision": "select", "reasons": "담임 의견과 진단 결과를 종합하여 선정"}
        ],
    )
    case.refresh_from_db()
    if counselor and rng.random() < 0.6:
        team.add_team_member(case, by=coordinator, user=counselor, role="counsellor")
    definition = instruments()["needs_checklist"]
    answers = {item["code"]: rng.choice([0, 1, 1, 2, 3]) for item in items(definition)}
    records.record_assessment(case, by=coordinator, instrument="needs_checklist", answers=answers)
    if target == "selected" and rng.random() < 0.5:
        # Still waiting for the guardian's consent: the coordinator's queue shows it.
        _consent(case, coordinator, today, subjects=("student",))
        return case
    _consent(case, coordinator, today)
    plan = planning.create_plan(
        case,
        by=coordinator,
        goals=["정서 안정을 위한 주 1회 상담", "기초학력 보충 학습 참여"],
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=120),
        review_on=today + timedelta(days=rng.choice([3, 5, 20, 45])),
    )
    intervention = planning.add_intervention(
        plan,
        by=coordinator,
        domain="counselling",
        support_type="counselling",
        responsible=counselor,
        frequency="주 1회",
        starts_on=today - timedelta(days=28),
    )
    planning.submit_plan(plan, by=coordinator)
    if target == "selected" or principal is None:  # the plan waits for the principal
        return case
    planning.approve_plan(plan, by=principal)
    case.refresh_from_db()
    lifecycle.transition_case(case, by=coordinator, to="active")
    for week in range(rng.randint(1, 4)):
        planning.log_service(
            intervention,
            by=coordinator,
            occurred_on=today - timedelta(days=7 * week + 1),
            duration_minutes=40,
            note="정기 상담",
        )
    records.add_note(case, by=coordinator, kind="call", body="보호자와 통화: 가정 상황 확인")
    if counselor and case.members.filter(user=counselor).exists():
        records.add_note(
            case,
            by=counselor,
            kind="counselling",
            body="상담 내용 (비공개)",
            confidentiality="restricted",
        )
    case.refresh_from_db()
    if target == "monitoring":
        lifecycle.transition_case(case, by=coordinator, to="monitoring", reason="안정 단계")
    elif target == "closed":
        lifecycle.transition_case(
            case, by=coordinator, to="closed", closure_reason="goals_met", reason="목표 달성"
        )
    return case


def _consent(case, coordinator, today, subjects=("student", "guardian")):
    guardian = case.student.guardians.first()
    for subject in subjects:
        extra = {}
        if subject == "guardian":
            extra = {"guardian_name": guardian.name, "relation": guardian.relation}
        records.record_consent(
            case,
            by=coordinator,
            subject=subject,
            purposes=["support", "share_with_office", "share_with_partners"],
            method="written",
            given_on=today - timedelta(days=25),
            **extra,
        )


@transaction.atomic
def seed_demo_casework(*, seed: int = 2026, stdout=None) -> bool:
    """Returns False (and changes nothing) when the demo casework is already there."""
    codes = list(SCHOOL_STUDENTS)
    if Student.objects.filter(school__code__in=codes).exists():
        return False
    # The demo's notifications stay in-app; e-mail is for what people do next.
    with delivery.suspended():
        return _seed(seed, stdout)


def _open_and_drive(student, difficulties, status, *, raiser, rng, today, coordinator, **people):
    """A concern about the student, the case opened for it and taken to `status`."""
    concern = intake.raise_concern(
        by=raiser,
        student=student,
        difficulties=difficulties,
        description="수업 중 관찰 내용과 상담 요청",
        urgency=rng.choice(["normal", "normal", "high", "urgent"]),
    )
    concern = intake.triage_concern(concern, by=coordinator, decision="open_case")
    case = records.update_case(
        concern.case,
        by=coordinator,
        version=concern.case.version,
        domains=sorted({DOMAINS_FOR[d] for d in difficulties}),
    )
    _drive(case, status, rng=rng, today=today, coordinator=coordinator, **people)


def _seed(seed: int, stdout) -> bool:
    rng = random.Random(seed)
    today = timezone.localdate()
    students = seed_students(rng, today)
    teacher, counselor = _user("teacher"), _user("counselor")
    for code, plan in CASE_PLAN.items():
        pool = list(students.get(code, []))
        coordinator_name, vice_name, principal_name = HEADS[code]
        coordinator = _user(coordinator_name)
        if coordinator is None or not pool:
            continue
        vice, principal = _user(vice_name), _user(principal_name)
        rng.shuffle(pool)
        raised = 0
        for status, count in plan:
            for _ in range(count):
                student = pool.pop()
                difficulties = rng.choice(DIFFICULTY_SETS)
                raiser = coordinator
                if code == "S0001" and teacher and raised % TEACHER_RAISES == 0:
                    raiser = teacher
                raised += 1
                with muted() if status in BACK_STORY else nullcontext():
                    _open_and_drive(
                        student,
                        difficulties,
                        status,
                        raiser=raiser,
                        rng=rng,
                        today=today,
                        coordinator=coordinator,
                        vice=vice,
                        principal=principal,
                        counselor=counselor if code == "S0001" else None,
                        teacher=teacher if code == "S0001" else None,
                    )
        # A few fresh concerns wait in the coordinator's queue.
        for i, student in enumerate(pool[:4]):
            intake.raise_concern(
                by=teacher if code == "S0001" and teacher and i % 2 == 0 else coordinator,
                student=student,
                difficulties=rng.choice(DIFFICULTY_SETS),
                description="최근 결석이 잦고 표정이 어두움",
                urgency="high",
            )
    seed_demo_alert()
    skipped = seed_demo_referrals(rng, today)
    if skipped and stdout is not None:
        stdout.write(f"demo referrals skipped: the demo network lacks {', '.join(skipped)}")
    review = seed_demo_oversight(rng, today)
    if review is not None and stdout is not None:
        stdout.write(
            f"demo oversight: review of {review.month:%Y-%m} with {review.findings.count()} findings"
        )
    if stdout is not None:
        stdout.write(
            f"demo casework: {Student.objects.count()} students, {Case.objects.count()} cases, "
            f"{Referral.objects.count()} referrals, {Transfer.objects.count()} transfers"
        )
    return True


def seed_demo_alert() -> Alert | None:
    """DEMO.md: one alert from `police` already routed to 이음초등학교 (a concern there, open
    in the coordinator's queue), about a student with no concern or case yet."""
    police, school = _user("police"), Organization.objects.filter(code="S0001").first()
    if police is None or school is None:
        return None
    for student in Student.objects.filter(
        school=school, concerns__isnull=True, cases__isnull=True
    ).order_by("grade", "class_no", "number"):
        twins = Student.objects.filter(
            school=school, name=student.name, birth_date=student.birth_date
        )
        if twins.count() == 1:
            return alert_flows.send_alert(
                police,
                name=student.name,
                birth_date=student.birth_date.isoformat(),
                school=school,
                description="밤 11시쯤 편의점 앞에서 혼자 있는 것을 순찰 중 발견함. "
                "보호자와 연락이 닿지 않았고, 집에 들어가기 싫다고 말함.",
                urgency="high",
            )
    return None


def _service(org_code: str) -> Service | None:
    return Service.objects.filter(organization__code=org_code).order_by("name").first()


def _backdate(referral: Referral, *, sent_days_ago: int, overdue_days: int | None = None) -> None:
    """Age a referral that was just sent, so the demo shows real waiting and overdue work."""
    referral.refresh_from_db()
    referral.sent_at = timezone.now() - timedelta(days=sent_days_ago)
    start = timezone.localdate() - timedelta(days=sent_days_ago)
    referral.respond_by = deadlines.add_business_days(start, 5)
    if overdue_days is not None:
        day = timezone.localdate()
        for _ in range(overdue_days):
            day -= timedelta(days=1)
            while not deadlines.is_business_day(day):
                day -= timedelta(days=1)
        referral.respond_by = day
    attribute(referral, None, "시연 자료: 발송일 조정")
    referral.save()


DEMO_REFERRAL_ORGANIZATIONS = ("S0001", "B10-NAMBU", "P-GC-YOUTH", "P-GC-MENTAL")
DEMO_REFERRAL_USERS = ("coordinator", "centrehead", "casemanager", "partner", "partner2")


def seed_demo_referrals(rng: random.Random, today: date) -> list[str]:
    """Escalations and service referrals in every state (a few overdue) and two transfers, on
    the cases of 이음초등학교 (DEMO.md "Demo casework"). Returns what was missing when the demo
    network lacks an organisation or account they need (then nothing is made), else []."""
    coordinator, centrehead = _user("coordinator"), _user("centrehead")
    casemanager, partner, partner2 = _user("casemanager"), _user("partner"), _user("partner2")
    coordinator2 = _user("coordinator2")
    school = Organization.objects.filter(code="S0001").first()
    office = Organization.objects.filter(code="B10-NAMBU").first()
    youth = Organization.objects.filter(code="P-GC-YOUTH").first()
    mental = Organization.objects.filter(code="P-GC-MENTAL").first()
    child = Organization.objects.filter(code="P-SN-CHILD").first()
    missing = [
        code
        for code in DEMO_REFERRAL_ORGANIZATIONS
        if not Organization.objects.filter(code=code).exists()
    ] + [name for name in DEMO_REFERRAL_USERS if _user(name) is None]
    if missing:
        return missing
    cases = {
        status: list(Case.objects.filter(owner=school, status=status).order_by("number"))
        for status in ("identified", "reviewing", "selected", "active", "monitoring")
    }
    active = cases["active"] + cases["monitoring"]
    youth_service, mental_service = _service("P-GC-YOUTH"), _service("P-GC-MENTAL")

    def refer(case, to, service, reason, **kw):
        return referral_flows.create_referral(
            case,
            by=coordinator,
            kind="service",
            to_organization=to,
            service=service,
            reason=reason,
            requested_domains=kw.pop("domains", ["counselling"]),
            requested_support=kw.pop("support", "주 1회 개인 상담"),
            **kw,
        )

    def send(referral, by=coordinator):
        return referral_flows.send_referral(referral, by=by)

    # Escalations: one waiting for the centre head (overdue), one declined, one accepted. Each
    # shares the student's data with the office, so both consents are recorded first.
    for case in (cases["reviewing"][0], cases["reviewing"][1]):
        _consent(case, coordinator, today)
    waiting = send(
        referral_flows.create_referral(
            cases["reviewing"][0],
            by=coordinator,
            kind="escalation",
            to_organization=office,
            reason="가정 내 돌봄 공백과 정서 위기가 겹쳐 학교 차원의 지원으로는 부족합니다.",
            urgency="high",
        )
    )
    _backdate(waiting, sent_days_ago=7, overdue_days=2)
    declined = send(
        referral_flows.create_referral(
            cases["reviewing"][1],
            by=coordinator,
            kind="escalation",
            to_organization=office,
            reason="기초학력 지원 연계 요청",
        )
    )
    referral_flows.decline_referral(
        declined,
        by=centrehead,
        reason="학교 내 기초학력 프로그램으로 지원 가능하여 학교 지원을 권고합니다.",
    )
    accepted_case = active[0]
    escalated = send(
        referral_flows.create_referral(
            accepted_case,
            by=coordinator,
            kind="escalation",
            to_organization=office,
            reason="자해 징후가 있어 전문 기관 연계와 통합사례관리가 필요합니다.",
            urgency="urgent",
        )
    )
    referral_flows.accept_referral(
        escalated,
        by=centrehead,
        reasons="위기 수준이 높고 다기관 협력이 필요하여 지원 대상으로 결정",
    )
    accepted_case.refresh_from_db()
    onward = referral_flows.create_referral(
        accepted_case,
        by=casemanager,
        kind="service",
        to_organization=mental,
        service=mental_service,
        reason="정신건강 평가와 사례관리 연계",
        requested_domains=["health", "counselling"],
        shared_fields=["student_name", "grade", "school", "birth_year", "reason", "risk_level"],
    )
    onward = referral_flows.send_referral(onward, by=casemanager)
    referral_flows.accept_referral(onward, by=partner2)
    referral_flows.start_referral(onward, by=partner2)

    # Service referrals to the youth counselling centre in every state.
    pool = active[1:]
    new = send(refer(pool[0], youth, youth_service, "또래 관계 어려움으로 개인 상담이 필요합니다."))
    _backdate(new, sent_days_ago=1)
    overdue = send(
        refer(pool[1], youth, youth_service, "등교 거부가 이어져 상담 연계가 필요합니다.")
    )
    _backdate(overdue, sent_days_ago=10, overdue_days=3)
    received = send(refer(pool[2], youth, youth_service, "분노 조절 어려움", urgency="high"))
    referral_flows.open_referral(received, by=partner)
    in_progress = send(refer(pool[3], youth, youth_service, "정서 지원 상담"))
    referral_flows.accept_referral(in_progress, by=partner)
    referral_flows.start_referral(in_progress, by=partner)
    referral_flows.post_message(
        in_progress, by=partner, body="첫 상담을 마쳤습니다. 보호자 상담 일정을 잡고 있습니다."
    )
    referral_flows.post_message(
        in_progress, by=coordinator, body="감사합니다. 담임교사 의견도 전달드리겠습니다."
    )
    accepted = send(refer(pool[4], youth, youth_service, "진로 고민 상담"))
    referral_flows.accept_referral(accepted, by=partner)
    done = send(refer(pool[5], youth, youth_service, "학교 적응 상담"))
    referral_flows.accept_referral(done, by=partner)
    referral_flows.start_referral(done, by=partner)
    referral_flows.complete_referral(
        done,
        by=partner,
        outcome="8회 개인 상담을 마쳤습니다. 교우 관계가 나아졌고 3개월 뒤 점검을 권합니다.",
    )
    declined_service = send(refer(pool[6], youth, youth_service, "집단 상담 참여"))
    referral_flows.decline_referral(
        declined_service,
        by=partner,
        reason="집단 프로그램 정원이 찼습니다. 다음 기수에 다시 의뢰해 주세요.",
    )
    cancelled = send(refer(pool[7], youth, youth_service, "방과 후 상담"))
    referral_flows.cancel_referral(cancelled, by=coordinator, reason="학교 상담으로 충분해짐")
    refer(pool[8], youth, youth_service, "방학 중 상담 연계 (작성 중)")
    if child is not None:
        send(
            referral_flows.create_referral(
                pool[9],
                by=coordinator,
                kind="service",
                to_organization=child,
                service=_service("P-SN-CHILD"),
                reason="방임 의심 정황 (결식, 위생 문제 반복)",
                requested_domains=["welfare"],
                legal_basis="child_protection",
                justification="아동학대처벌법 제10조에 따른 신고와 사례 연계",
                urgency="urgent",
                shared_fields=["student_name", "grade", "school", "guardian_contact", "reason"],
            )
        )

    # Transfers: one waiting for 한빛초등학교, one already handed over from there.
    if coordinator2 is not None and cases["selected"]:
        transfer_flows.request_transfer(
            cases["selected"][0],
            by=coordinator,
            to_school=Organization.objects.get(code="S0003"),
            reason="보호자 이사로 한빛초등학교에 전학 예정",
        )
        incoming = (
            Case.objects.filter(owner__code="S0003", status="identified").order_by("number").first()
        )
        if incoming is not None:
            transfer = transfer_flows.request_transfer(
                incoming, by=coordinator2, to_school=school, reason="이음초등학교로 전학"
            )
            transfer_flows.accept_transfer(transfer, by=coordinator)
    return []
