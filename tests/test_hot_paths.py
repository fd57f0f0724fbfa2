"""The hot paths of DESIGN.md §8 answer with a fixed number of SQL queries, the same at two data
sizes (no N+1, no growth with data): at most 15 each (issue budget; timing is bench/'s job)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from casework.workflows import intake, planning, records
from casework.workflows import referrals as wf
from tests.casework.test_referrals import NON_SENSITIVE, consent, service_referral
from tests.casework.test_workflows import select
from tests.factories import AgreementFactory, ServiceFactory, StudentFactory

pytestmark = pytest.mark.django_db
BUDGET = 15


def populate(world, size: int):
    from datetime import timedelta

    from django.utils import timezone

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
        case = select(world, case)
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


def paths(world, case):
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
    ]


def query_counts(world, case) -> dict[str, int]:
    counts = {}
    for username, path in paths(world, case):
        client = APIClient()
        client.force_login(world[username])
        client.get(path)  # the session's first renewal is not the steady state
        with CaptureQueriesContext(connection) as ctx:
            answer = client.get(path)
        assert answer.status_code == 200, path
        counts[path.replace(str(case.pk), "<case>")] = len(ctx.captured_queries)
    return counts


# The budget is PostgreSQL's, where production runs (a page's access event is one statement
# there); the SQLite demo appends it in five and reads each history table on its own, so there
# only the next test holds.
@pytest.mark.postgres
@pytest.mark.parametrize("size", [2, 9])
def test_hot_paths_stay_within_the_query_budget(world, size, django_assert_max_num_queries):
    case = populate(world, size)
    for username, path in paths(world, case):
        client = APIClient()
        client.force_login(world[username])
        client.get(path)  # the session's first renewal is not the steady state
        with django_assert_max_num_queries(BUDGET, info=path):
            answer = client.get(path)
        assert answer.status_code == 200, path


def test_hot_paths_do_not_grow_with_the_data(world):
    small = query_counts(world, populate(world, 2))
    large = query_counts(world, populate(world, 7))  # nine of everything now
    assert large == small
