"""Pages, API and selectors agree (generated from the URL conf).

Every GET route that shows one object by `<uuid:pk>` is matched to the kind of object its path
names; for every role of the `world` and a sample of objects of every organisation, the page
and the API answer 200 exactly for the objects the access selector returns, and 404 for the
rest. The list routes of each kind return the selector's set. A new detail route whose path
names no known kind fails `test_every_object_route_has_a_kind`.
"""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from casework import access
from casework.models import Job, Note
from casework.workflows import intake, records
from tests.access.matrix import iter_routes
from tests.factories import CaseFactory, ReferralFactory, StudentFactory

pytestmark = pytest.mark.django_db

# The object a route shows, by the path segment before `<uuid:pk>`.
KINDS = {
    "cases": "case",
    "students": "student",
    "referrals": "referral",
    "jobs": "job",
    "concerns": "concern",
}
# Object routes whose pk is not one of the kinds above, with why they are not compared here.
OTHER = {
    "api-student-subject-access": "its own rule, narrower and wider than the student's visibility"
    " (the owner school's coordinator, the privacy officer above it); test_subject_access.py",
    "casework:subject_access": "as api-student-subject-access",
    "api-case-break-glass": "POST only; tests/casework/oversight/test_break_glass.py",
    # The monthly review: the privacy officer's own rule (access.visible_reviews, the finding's
    # person once asked); tests/access/routes_review.py and tests/casework/oversight/test_reviews.py.
    "api-audit-review": "the privacy officer's",
    "api-audit-finding-ask": "POST only",
    "api-audit-finding-answer": "POST only",
    "api-audit-finding-close": "POST only",
    "casework:review_detail": "the privacy officer's",
    "casework:review_complete": "POST only",
    "casework:finding_detail": "the privacy officer's",
    "casework:finding_answer": "the person concerned, once asked",
    "casework:notification_open": "the user's own notification; tests/access/test_side_paths.py",
    "casework:concern_triage": "POST only",
    "casework:plan_decide": "POST only",
    "casework:transfer_action": "POST only",
    "casework:transfer_claim_action": "POST only",
    "api-concern-triage": "POST only",
    "api-plan": "PATCH only",
    "api-plan-submit": "POST only",
    "api-plan-approve": "POST only",
    "api-plan-return": "POST only",
    "api-plan-interventions": "POST only",
    "api-intervention-logs": "POST only",
    "api-consent-withdraw": "POST only",
    "api-transfer-claim-confirm": "POST only",
    "api-transfer-claim-decline": "POST only",
    "api-transfer-accept": "POST only",
    "api-transfer-decline": "POST only",
    "api-transfer-cancel": "POST only",
    "api-notification-read": "POST only",
    # An export's file and pages: its requester's alone while it lasts (access.visible_export_jobs,
    # narrower than a job: a roster job has no file); tests/casework/exports/.
    "api-job-download": "an export's file, not every job's",
    "casework:export_detail": "as api-job-download",
    "casework:export_download": "as api-job-download",
    # An alert routed to a district office: its centre staff's alone (access.alerts_to_route);
    # the sender never reads one back. tests/casework/alerts/test_routing.py.
    "casework:alert_route": "the office's alerts to route; no API reads one",
}
SELECTORS = {
    "case": access.visible_cases,
    "student": access.visible_students,
    "referral": access.visible_referrals,
    "job": access.visible_jobs,
    "concern": access.visible_concerns,
}
UUID_PK = re.compile(r"(?:^|/)([a-z]+)/<uuid:pk>/")


def object_routes():
    """(name, pattern text) of every route with a `<uuid:pk>`, from the URL conf as the isolation
    matrix walks it."""
    return [
        (key, pattern)
        for key, pattern, entry in iter_routes()
        if entry.name and "<uuid:pk>" in pattern and not pattern.startswith("admin/")
    ]


def test_every_object_route_has_a_kind():
    unknown = [
        name
        for name, text in object_routes()
        if name not in OTHER and (m := UUID_PK.search(text)) and m.group(1) not in KINDS
    ]
    assert unknown == []


@pytest.fixture
def sample(world):
    """Objects of every organisation: cases of both schools (one led by 남부), their students
    and a roster student, referrals to both partners, each coordinator's import job."""
    ours = CaseFactory(owner=world.school)
    access.grant_case_to_owner_school(ours)
    led = CaseFactory(owner=world.school, lead=world.nambu)
    access.grant_case_to_owner_school(led)
    access.grant_case_to_lead_office(led, world.nambu)
    theirs = CaseFactory(owner=world.other_school)
    access.grant_case_to_owner_school(theirs)
    records.add_note(
        ours, by=world["coordinator"], kind="call", body="비공개", confidentiality="restricted"
    )
    StudentFactory(school=world.school)
    StudentFactory(school=world.other_school)
    referrals = []
    for case, to in ((ours, world.partner_org), (theirs, world.other_partner_org)):
        referral = ReferralFactory(case=case, to_organization=to, status="sent")
        access.grant_referral_to_receiver(referral)
        referrals.append(referral)
    jobs = [
        Job.objects.create(kind="roster_import", created_by=world[u], organization=org)
        for u, org in (("coordinator", world.school), ("coordinator2", world.other_school))
    ]
    return {
        "case": [ours, led, theirs],
        "student": [ours.student, theirs.student, *StudentFactory._meta.model.objects.all()],
        "referral": referrals,
        "job": jobs,
        "concern": [
            intake.raise_concern(
                by=world["teacher"], student=ours.student, difficulties=["health"]
            ),
            intake.raise_concern(
                by=world["coordinator2"], student=theirs.student, difficulties=["health"]
            ),
        ],
    }


def _get(user, url: str, *, api: bool):
    if api:
        client = APIClient()
        client.force_authenticate(user)
    else:
        client = Client()
        client.force_login(user)
    return client.get(url)


ROLES = (
    "teacher",
    "counselor",
    "coordinator",
    "vice",
    "principal",
    "coordinator2",
    "casemanager",
    "centrehead",
    "casemanager2",
    "partner",
    "partner2",
    "analyst",
    "privacy",
    "admin",
)


@pytest.mark.parametrize("username", ROLES)
def test_detail_routes_answer_what_the_selector_returns(world, sample, username):
    user = world[username]
    disagree = []
    for name, text in object_routes():
        match = UUID_PK.search(text)
        if name in OTHER or not match:
            continue
        kind = KINDS[match.group(1)]
        visible = set(SELECTORS[kind](user).values_list("pk", flat=True))
        for obj in _one_of_each(sample[kind], visible):
            url = "/" + re.sub(r"<[^>]+>", lambda m, pk=obj.pk: _fill(m.group(0), pk, user), text)
            if "<" in url:
                continue
            response = _get(user, url, api=url.startswith("/api/"))
            if response.status_code in (405, 302):  # POST-only, or a page that moves on
                continue
            expected = {200} if obj.pk in visible else {404}
            if obj.pk in visible and response.status_code == 403:
                continue  # visible, but not this user's action (e.g. a form for the coordinator)
            if response.status_code not in expected:
                disagree.append((name, str(obj.pk)[:8], response.status_code, sorted(expected)))
    assert disagree == []


def _one_of_each(objects, visible):
    """One object the user may see and one they may not (when there are such)."""
    seen = [o for o in objects if o.pk in visible][:1]
    unseen = [o for o in objects if o.pk not in visible][:1]
    return seen + unseen


def _fill(param: str, pk, user) -> str:
    if param == "<uuid:pk>":
        return str(pk)
    if param == "<uuid:user_id>":
        return str(user.pk)
    return param  # an action slug etc.: left unfilled, the route is skipped


LISTS = {
    "case": ("/api/v1/cases/", "/casework/cases/"),
    "student": ("/api/v1/students/", "/casework/students/"),
    "referral": (None, None),
}


@pytest.mark.parametrize("username", ROLES)
def test_lists_return_the_selector_set(world, sample, username):
    user = world[username]
    for kind, (api_url, page_url) in LISTS.items():
        if api_url is None:
            continue
        expected = {str(pk) for pk in SELECTORS[kind](user).values_list("pk", flat=True)}
        response = _get(user, api_url, api=True)
        assert response.status_code == 200, api_url
        assert {row["id"] for row in response.json()["results"]} == expected, (kind, "api")
        page = _get(user, page_url, api=False)
        if page.status_code == 200 and page.context and "page" in page.context:
            shown = {str(o.pk) for o in page.context["page"].object_list}
            assert shown == expected, (kind, "page")


@pytest.mark.parametrize("username", ROLES)
def test_meetings_page_and_api_agree_with_the_selector(world, sample, username):
    from django.utils import timezone

    from casework.workflows import lifecycle

    lifecycle.record_meeting(
        by=world["coordinator"],
        organization=world.school,
        kind="school_team",
        held_on=timezone.localdate(),
        attendees=[world["counselor"]],
        guests=[],
        minutes="회의록",
        decisions=[],
    )
    user = world[username]
    expected = {str(pk) for pk in access.visible_meetings(user).values_list("pk", flat=True)}
    response = _get(user, "/api/v1/meetings/", api=True)
    assert {row["id"] for row in response.json()["results"]} == expected
    page = _get(user, "/casework/meetings/", api=False)
    if page.status_code == 200:
        assert {str(m.pk) for m in page.context["page"].object_list} == expected


def test_restricted_note_rows_follow_the_selector(world, sample):
    case = sample["case"][0]
    for username in ROLES:
        user = world[username]
        response = _get(user, f"/api/v1/cases/{case.pk}/notes/", api=True)
        if response.status_code == 404:
            assert not access.visible_cases(user).filter(pk=case.pk).exists()
            continue
        ids = {row["id"] for row in response.json()["results"]}
        expected = {str(pk) for pk in access.visible_notes(user, case).values_list("pk", flat=True)}
        assert ids == expected, username
        restricted = Note.objects.filter(case=case, confidentiality="restricted")
        if username not in ("coordinator",):
            assert not ids & {str(n.pk) for n in restricted}, username
