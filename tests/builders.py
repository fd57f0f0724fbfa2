"""Plain helpers that build test data the way its users would, through the workflows, shared by
test modules of several folders. Fixtures live in the conftest.py files; each helper takes the
`world` (tests/conftest.py) or the objects it builds on."""

import io
from contextlib import contextmanager
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from casework.workflows import intake, lifecycle, planning, records
from casework.workflows import referrals as wf
from config.celery import app as celery_app
from tests.factories import AgreementFactory, ServiceFactory, StudentFactory

TODAY = timezone.localdate

# --- Signing in ------------------------------------------------------------------------------


def as_user(client, world, username):
    client.force_login(world[username])
    return client


# --- A case through the school's team ------------------------------------------------------------


def select_case(world, case):
    """Put the case under review and select it at a school team meeting."""
    lifecycle.transition_case(case, by=world["coordinator"], to="reviewing")
    lifecycle.record_meeting(
        by=world["vice"],
        organization=world.school,
        kind="school_team",
        held_on=TODAY(),
        attendees=[world["vice"], world["coordinator"]],
        guests=["외부 위원"],
        minutes="회의록",
        decisions=[{"case": case, "decision": "select", "reasons": "정서 지원 필요"}],
    )
    case.refresh_from_db()
    return case


def consent_both(world, case):
    """The student's and the guardian's consent to support (not to share)."""
    for subject, extra in (
        ("student", {}),
        ("guardian", {"guardian_name": "김보호", "relation": "모"}),
    ):
        records.record_consent(
            case,
            by=world["coordinator"],
            subject=subject,
            purposes=["support"],
            method="written",
            given_on=TODAY(),
            **extra,
        )


def approved_plan(world, case):
    plan = planning.create_plan(
        case,
        by=world["coordinator"],
        goals=["주 1회 상담"],
        starts_on=TODAY(),
        review_on=TODAY() + timedelta(days=60),
    )
    planning.submit_plan(plan, by=world["coordinator"])
    return planning.approve_plan(plan, by=world["principal"])


# --- Referrals -----------------------------------------------------------------------------------

# The packet fields an agreement with a partner allows when it names no sensitive field.
NON_SENSITIVE = [
    "student_name",
    "grade",
    "school",
    "birth_year",
    "sex",
    "guardian_contact",
    "home_borough",
    "difficulties",
    "risk_level",
    "reason",
    "requested_support",
]


def consent(world, case, subject, purposes=("support", "share_with_partners"), **extra):
    if subject == "guardian":
        extra = {"guardian_name": "김보호", "relation": "모", **extra}
    return records.record_consent(
        case,
        by=world["coordinator"],
        subject=subject,
        purposes=list(purposes),
        method="written",
        given_on=TODAY(),
        **extra,
    )


def service_referral(world, case, **kw):
    """A draft referral of the case to the youth counselling centre's service (`world.service`)."""
    args = {
        "kind": "service",
        "to_organization": world.partner_org,
        "service": world.service,
        "reason": "또래 관계 어려움으로 상담 필요",
        "requested_domains": ["counselling"],
        "requested_support": "주 1회 개인 상담",
        "shared_fields": ["student_name", "grade", "reason", "guardian_contact"],
    }
    args.update(kw)
    return wf.create_referral(case, by=world["coordinator"], **args)


def office_consents(world, case):
    """Both consents to share with the district office: an escalation needs them too."""
    consent(world, case, "student", purposes=("support", "share_with_office"))
    return consent(world, case, "guardian", purposes=("support", "share_with_office"))


def escalation(world, case, **kw):
    """A draft escalation of the case to 남부교육지원청."""
    return wf.create_referral(
        case,
        by=world["coordinator"],
        kind="escalation",
        to_organization=world.nambu,
        reason="학교 차원의 지원으로 부족",
        **kw,
    )


# --- The hot paths (DESIGN.md §8) ---------------------------------------------------------------


def populate_hot_paths(world, size: int):
    """`size` selected cases of 이음초등학교, each with both consents, a note, a plan with an
    intervention, a sent service referral and a sent escalation; returns the last case."""
    AgreementFactory(office=world.province, partner=world.partner_org, allowed_fields=NON_SENSITIVE)
    world.service = ServiceFactory(organization=world.partner_org)
    today = timezone.localdate()
    cases = []
    for i in range(size):
        case = intake.open_case(
            by=world["coordinator"],
            student=StudentFactory(school=world.school),
            difficulties=["psychological"],
        )
        case = select_case(world, case)
        # Both consents cover the partner and, for the escalation, the district office.
        for subject in ("student", "guardian"):
            consent(
                world,
                case,
                subject,
                purposes=("support", "share_with_partners", "share_with_office"),
            )
        records.add_note(case, by=world["coordinator"], kind="call", body=f"기록 {i}")
        plan = planning.create_plan(
            case,
            by=world["coordinator"],
            goals=["목표"],
            starts_on=today,
            review_on=today + timedelta(days=30),
        )
        planning.add_intervention(
            plan, by=world["coordinator"], domain="counselling", support_type="counselling"
        )
        wf.send_referral(service_referral(world, case, reason=f"사유 {i}"), by=world["coordinator"])
        wf.send_referral(
            wf.create_referral(
                case,
                by=world["coordinator"],
                kind="escalation",
                to_organization=world.nambu,
                reason=f"요청 {i}",
            ),
            by=world["coordinator"],
        )
        cases.append(case)
    return cases[-1]


def hot_paths(world, case):
    """(username, path) of every hot path, opened as that user."""
    return [
        ("coordinator", reverse("casework:queue")),
        ("coordinator", reverse("casework:case_list")),
        ("coordinator", reverse("casework:case_detail", args=[case.pk])),
        ("coordinator", reverse("casework:case_plans", args=[case.pk])),
        ("coordinator", reverse("casework:case_timeline", args=[case.pk])),
        ("centrehead", reverse("casework:referral_list") + "?box=inbox&kind=escalation"),
        ("partner", reverse("casework:referral_list") + "?box=inbox"),
        ("centrehead", reverse("casework:district_dashboard")),
        ("coordinator", "/api/v1/cases/"),
        ("coordinator", f"/api/v1/cases/{case.pk}/"),
        ("coordinator", f"/api/v1/cases/{case.pk}/timeline/"),
        ("centrehead", "/api/v1/referrals/?box=inbox&kind=escalation"),
        ("partner", "/api/v1/referrals/?box=inbox"),
        ("centrehead", "/api/v1/reports/summary/?group_by=school"),
        ("analyst", "/api/v1/reports/summary/?group_by=month"),
        ("principal", "/api/v1/reports/summary/?group_by=domain"),
        ("analyst", reverse("casework:report_dashboard")),
        ("centrehead", reverse("casework:report_dashboard")),
    ]


# --- Roster files ----------------------------------------------------------------------------

ROSTER_HEADER = (
    "학년,반,번호,성명,생년월일,성별,학생개인번호,보호자명,보호자관계,보호자연락처,거주 자치구"
)
ROSTER_ROWS = [
    "4,2,1,김하늘,2016-03-05,여,N001,김보호,모,010-1111-2222,금천구",
    "4,2,2,이바다,2016.07.21,남,N002,이보호,부,010-3333-4444,11545",
    "5,1,3,박산,20150102,남자,,박보호,조모,,",
]


def csv_bytes(rows=ROSTER_ROWS, encoding="utf-8", header=ROSTER_HEADER):
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def xlsx_bytes(*rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- The Celery broker -----------------------------------------------------------------------

DEAD_BROKER = "redis://127.0.0.1:6390/15"  # nothing listens here


@contextmanager
def broker(url: str):
    """Point this process's Celery app at a real broker (not eager), with fresh connection
    pools, and put everything back afterwards."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager

    def reset_pools():  # kombu keeps one pool per broker URL; the app forgets its choice
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url, conf.task_always_eager = url, False
    reset_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager = saved
        reset_pools()
