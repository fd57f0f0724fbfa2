"""The side paths of access (DESIGN.md §3 Note, §5, §6): notifications and jobs follow the
user's current approval and roles, every read they make is logged, every write whose answer
shows personal data writes an access event for what it shows, and nothing about a restricted
note (its id, author or time) reaches the history, timeline, access events or errors of anyone
outside its readers."""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casework import access, audit, instruments
from casework.api import urls as api_urls
from casework.models import AccessEvent, AccessReview, Job, Note, Notification, ReviewFinding
from casework.workflows import intake, planning, records, reviews, team, transfers
from casework.workflows import referrals as wf
from partners.choices import Role
from partners.models import Membership
from tests.builders import select_case
from tests.conftest import World
from tests.factories import (
    AgreementFactory,
    MembershipFactory,
    ServiceFactory,
    StudentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def api(world, username) -> APIClient:
    client = APIClient()
    client.force_authenticate(world[username])
    return client


def web(world, username):
    from django.test import Client

    client = Client()
    client.force_login(world[username])
    return client


def events_after(mark: int, user) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(id__gt=mark, user=user).order_by("id"))


def last_event_id() -> int:
    return AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def expire_approval(user):
    for membership in Membership.objects.filter(user=user):
        membership.approval_expires_on = TODAY() - timedelta(days=1)
        membership.save()


# --- Notifications ---------------------------------------------------------------------------


@pytest.fixture
def concern_notification(world):
    """A concern about 김비밀, of which the coordinator is told (name and concern text)."""
    student = StudentFactory(school=world.school, name="김비밀")
    intake.raise_concern(
        by=world["teacher"],
        student=student,
        difficulties=["psychological"],
        description="집에서 맞는다고 말함",
    )
    notification = Notification.objects.get(recipient=world["coordinator"])
    assert "김비밀" in notification.display_title
    return notification


def test_expired_approval_empties_the_notifications_api(world, concern_notification):
    expire_approval(world["coordinator"])
    client = api(world, "coordinator")
    listed = client.get("/api/v1/notifications/")
    assert listed.status_code == 200
    assert listed.json()["count"] == 0 and "김비밀" not in listed.content.decode()
    assert client.get("/api/v1/notifications/?unread=1").json()["count"] == 0
    read = client.post(f"/api/v1/notifications/{concern_notification.pk}/read/")
    assert read.status_code == 404 and "김비밀" not in read.content.decode()
    concern_notification.refresh_from_db()
    assert concern_notification.read_at is None


def test_expired_approval_empties_the_notifications_page_and_says_why(world, concern_notification):
    expire_approval(world["coordinator"])
    client = web(world, "coordinator")
    page = client.get(reverse("casework:notifications"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "김비밀" not in text and "집에서" not in text
    assert 'id="notifications-no-approval"' in text and "개인정보 취급승인" in text
    assert client.get(reverse("casework:notification_badge")).content == b""
    opened = client.post(reverse("casework:notification_open", args=[concern_notification.pk]))
    assert opened.status_code == 404
    client.post(reverse("casework:notifications_read_all"))
    concern_notification.refresh_from_db()
    assert concern_notification.read_at is None


def test_current_approval_sees_notifications_without_the_notice(world, concern_notification):
    client = web(world, "coordinator")
    text = client.get(reverse("casework:notifications")).content.decode()
    assert "김비밀" in text and 'id="notifications-no-approval"' not in text
    assert client.get(reverse("casework:notification_badge")).content == b"1"


def test_notification_reads_write_access_events(world, concern_notification):
    coordinator = world["coordinator"]
    mark = last_event_id()
    assert api(world, "coordinator").get("/api/v1/notifications/").json()["count"] == 1
    [event] = events_after(mark, coordinator)
    assert (event.action, event.object_type, event.object_ids) == (
        "list",
        "notification",
        [str(concern_notification.pk)],
    )

    mark = last_event_id()
    assert web(world, "coordinator").get(reverse("casework:notifications")).status_code == 200
    [event] = events_after(mark, coordinator)
    assert (event.object_type, event.object_ids) == ("notification", [str(concern_notification.pk)])

    mark = last_event_id()
    assert (
        api(world, "coordinator")
        .post(f"/api/v1/notifications/{concern_notification.pk}/read/")
        .status_code
    )
    [event] = events_after(mark, coordinator)
    assert (event.object_type, event.object_ids) == ("notification", [str(concern_notification.pk)])


def test_notifications_of_someone_else_stay_theirs(world, concern_notification):
    assert (
        api(world, "vice")
        .post(f"/api/v1/notifications/{concern_notification.pk}/read/")
        .status_code
        == 404
    )
    assert api(world, "vice").get("/api/v1/notifications/").json()["count"] == 0


# --- Jobs ------------------------------------------------------------------------------------


@pytest.fixture
def job(world):
    return Job.objects.create(
        kind="roster_import",
        created_by=world["coordinator"],
        organization=world.school,
        file_name="명부.csv",
        errors=[{"row": 3, "field": "name", "message": "홍길동: 생년월일이 없습니다"}],
    )


def test_jobs_of_a_former_roster_keeper_are_not_found(world, job):
    membership = Membership.objects.get(user=world["coordinator"], organization=world.school)
    membership.role = Role.TEACHER
    membership.save()
    answer = api(world, "coordinator").get(f"/api/v1/jobs/{job.pk}/")
    assert answer.status_code == 404 and "홍길동" not in answer.content.decode()
    page = web(world, "coordinator").get(reverse("casework:job_detail", args=[job.pk]))
    assert page.status_code == 404


def test_expired_approval_hides_jobs(world, job):
    expire_approval(world["coordinator"])
    assert api(world, "coordinator").get(f"/api/v1/jobs/{job.pk}/").status_code == 404


def test_job_reads_write_access_events(world, job):
    coordinator = world["coordinator"]
    mark = last_event_id()
    answer = api(world, "coordinator").get(f"/api/v1/jobs/{job.pk}/")
    assert answer.status_code == 200 and "홍길동" in answer.content.decode()
    [event] = events_after(mark, coordinator)
    assert (event.object_type, event.object_ids) == ("job", [str(job.pk)])

    mark = last_event_id()
    page = web(world, "coordinator").get(
        reverse("casework:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    assert page.status_code == 200 and "홍길동" in page.content.decode()
    [event] = events_after(mark, coordinator)
    assert (event.object_type, event.object_ids) == ("job", [str(job.pk)])


# --- Restricted notes in history, timeline, access events, errors and search -----------------


@pytest.fixture
def restricted(world):
    """A case of 이음초등학교 led by the district office: the counsellor on its team wrote a
    restricted note, the coordinator a team note and read the notes list (one access event
    naming both notes)."""
    world["counselor"].name = "상담교사갑"
    world["counselor"].save()
    case = intake.open_case(
        by=world["coordinator"],
        student=StudentFactory(school=world.school),
        difficulties=["psychological"],
    )
    team.add_team_member(case, by=world["coordinator"], user=world["counselor"], role="counsellor")
    access.grant_case_to_lead_office(case, world.nambu)
    world.case = case
    world.secret = records.add_note(
        case,
        by=world["counselor"],
        kind="counselling",
        body="비밀상담내용",
        confidentiality="restricted",
    )
    world.shared = records.add_note(case, by=world["coordinator"], kind="call", body="보호자 통화")
    assert api(world, "coordinator").get(f"/api/v1/cases/{case.pk}/notes/").json()["count"] == 2
    return world


OUTSIDERS = ("vice", "casemanager")


def test_history_leaves_out_notes_the_reader_may_not_read(restricted):
    w = restricted
    url = f"/api/v1/cases/{w.case.pk}/history/"

    def history(username):
        answer = api(w, username).get(url)
        assert answer.status_code == 200
        entries = answer.json()
        notes = {e["object_id"] for e in entries if e["source"] == "note"}
        # The team is shown to whoever sees the case; only team entries may name its member.
        naming = {e["source"] for e in entries if "상담교사갑" in json.dumps(e, ensure_ascii=False)}
        return answer.content.decode(), notes, naming

    text, notes, naming = history("coordinator")
    assert notes == {str(w.secret.pk), str(w.shared.pk)} and "note" in naming
    for username in OUTSIDERS:
        text, notes, naming = history(username)
        assert notes == {str(w.shared.pk)}, username
        assert str(w.secret.pk) not in text and "비밀상담내용" not in text, username
        assert naming <= {"team"}, username


def test_timeline_leaves_out_notes_and_reads_the_reader_may_not_read(restricted):
    w = restricted
    url = f"/api/v1/cases/{w.case.pk}/timeline/?page_size=200"

    def timeline(username):
        answer = api(w, username).get(url)
        assert answer.status_code == 200
        body = answer.json()
        assert body["count"] == len(body["results"]), username  # the count agrees
        notes = [e for e in body["results"] if e["detail"].get("source") == "note"]
        note_reads = [
            e
            for e in body["results"]
            if e["kind"] == "access" and e["detail"]["object_type"] == "note"
        ]
        # Only the team's own entries may name its member (the team is shown with the case).
        naming = [
            e
            for e in body["results"]
            if "상담교사갑" in json.dumps(e, ensure_ascii=False)
            and e["detail"].get("source") != "team"
        ]
        return answer.content.decode(), notes, note_reads, naming

    text, notes, reads, naming = timeline("coordinator")
    assert len(notes) == 2 and reads and naming
    for username in OUTSIDERS:
        text, notes, reads, naming = timeline(username)
        assert len(notes) == 1 and notes[0]["user_name"] == w["coordinator"].name, username
        assert reads == [], username  # the list read named the restricted note
        assert naming == [] and str(w.secret.pk) not in text, username
        assert "비밀상담내용" not in text, username


def test_timeline_page_leaves_out_notes_the_reader_may_not_read(restricted):
    w = restricted
    url = reverse("casework:case_timeline", args=[w.case.pk])

    def named_beyond_the_team(username):
        page = web(w, username).get(url)
        assert page.status_code == 200
        # The team's own sentence names its member ("상담교사갑 님"); nothing else may.
        return page.content.decode().replace("상담교사갑 님", "").count("상담교사갑")

    assert named_beyond_the_team("coordinator") > 0
    for username in OUTSIDERS:
        assert named_beyond_the_team(username) == 0, username


def test_amending_a_restricted_note_answers_like_a_missing_one(restricted):
    w = restricted
    client = api(w, "casemanager")  # may write notes on the case, may not read the restricted
    url = f"/api/v1/cases/{w.case.pk}/notes/"
    body = {"kind": "call", "body": "정정"}
    missing = client.post(url, {**body, "amends": str(uuid.uuid4())}, format="json")
    hidden = client.post(url, {**body, "amends": str(w.secret.pk)}, format="json")
    assert missing.status_code == hidden.status_code == 400
    assert missing.json() == hidden.json()
    assert "amends" in hidden.json()
    ok = client.post(url, {**body, "amends": str(w.shared.pk)}, format="json")
    assert ok.status_code == 201 and ok.json()["amends"] == str(w.shared.pk)


def test_amending_a_restricted_note_on_the_page_answers_like_a_missing_one(restricted):
    w = restricted
    client = web(w, "casemanager")
    url = reverse("casework:case_action", args=[w.case.pk, "note"])
    before = Note.objects.count()

    def messages_after(amends):
        page = client.post(
            url, {"kind": "call", "confidentiality": "team", "body": "정정", "amends": amends}
        )
        return [page.status_code, *(str(m) for m in page.context["section_errors"])]

    missing = messages_after(str(uuid.uuid4()))
    hidden = messages_after(str(w.secret.pk))
    assert missing == hidden and missing
    assert Note.objects.count() == before  # neither writes a note that silently amends nothing


def test_case_search_never_matches_note_bodies(restricted):
    w = restricted
    for username in ("coordinator", *OUTSIDERS):
        found = api(w, username).get("/api/v1/cases/?q=비밀상담내용").json()
        assert found["count"] == 0, username


# --- Every write that answers personal data writes an access event ---------------------------


@dataclass
class Write:
    """One write route's call: who, with which URL arguments and body (built on `site`)."""

    user: str
    build: Callable[[World], tuple[dict, dict]]
    object_type: str
    # The id of what the answer shows (its "id" unless said otherwise).
    shown: Callable[[World, dict], str] = lambda w, body: str(body["id"])


def make_plan(w, submitted=False):
    plan = planning.create_plan(
        w.case,
        by=w["coordinator"],
        goals=["주 1회 상담"],
        starts_on=TODAY(),
        review_on=TODAY() + timedelta(days=30),
    )
    return planning.submit_plan(plan, by=w["coordinator"]) if submitted else plan


def make_referral(w, state="draft"):
    referral = wf.create_referral(
        w.case,
        by=w["coordinator"],
        kind="service",
        to_organization=w.partner_org,
        service=w.service,
        reason="상담 필요",
        shared_fields=["student_name", "grade"],
    )
    steps = ["sent", "received", "accepted", "in_progress"]
    for step in steps[: steps.index(state) + 1] if state in steps else []:
        if step == "sent":
            referral = wf.send_referral(referral, by=w["coordinator"])
        elif step == "received":
            referral = wf.open_referral(referral, by=w["partner"])
        elif step == "accepted":
            referral = wf.accept_referral(referral, by=w["partner"])
        else:
            referral = wf.start_referral(referral, by=w["partner"])
    return referral


def make_transfer(w):
    return transfers.request_transfer(
        w.case, by=w["coordinator"], to_school=w.other_school, reason="전학"
    )


def make_claim(w):
    student = w.case.student
    return transfers.claim_transfer(
        by=w["coordinator2"],
        neis_id=student.neis_id,
        student_name=student.name,
        birth_date=student.birth_date,
        reason="전학 옴",
    )


def pk(obj) -> dict:
    return {"pk": obj.pk}


def assessment_answers() -> dict:
    return dict.fromkeys(
        (i["code"] for i in instruments.items(instruments.instruments()["needs_checklist"])), 1
    )


def referral_action(state, user, body=None) -> Write:
    return Write(user, lambda w: (pk(make_referral(w, state)), body or {}), "referral")


WRITES: dict[tuple[str, str], Write] = {
    ("api-students", "post"): Write(
        "coordinator",
        lambda w: (
            {},
            {"name": "새학생", "birth_date": "2016-03-01", "sex": "female", "grade": 4}
            | {"class_no": 1, "number": 7},
        ),
        "student",
    ),
    ("api-concerns", "post"): Write(
        "teacher",
        lambda w: ({}, {"student": str(w.other_student.pk), "difficulties": ["health"]}),
        "concern",
    ),
    ("api-concern-triage", "post"): Write(
        "coordinator",
        lambda w: (pk(w.concern), {"decision": "no_action", "reason": "지켜봄"}),
        "concern",
    ),
    ("api-cases", "post"): Write(
        "coordinator",
        lambda w: ({}, {"student": str(w.other_student.pk), "difficulties": ["economic"]}),
        "case",
    ),
    ("api-case", "patch"): Write(
        "coordinator",
        lambda w: (pk(w.case), {"version": w.case.version, "summary": "고침"}),
        "case",
    ),
    ("api-case-transition", "post"): Write(
        "coordinator",
        lambda w: (pk(w.case), {"to": "closed", "closure_reason": "goals_met"}),
        "case",
    ),
    ("api-case-team", "post"): Write(
        "coordinator",
        lambda w: (pk(w.case), {"user": str(w["teacher"].pk), "role": "homeroom_teacher"}),
        "case_team",
        lambda w, body: str(w.case.members.get(user_id=body["user"]["id"]).pk),
    ),
    ("api-case-notes", "post"): Write(
        "coordinator", lambda w: (pk(w.case), {"kind": "call", "body": "통화"}), "note"
    ),
    ("api-case-assessments", "post"): Write(
        "coordinator",
        lambda w: (pk(w.case), {"instrument": "needs_checklist", "answers": assessment_answers()}),
        "assessment",
    ),
    ("api-case-consents", "post"): Write(
        "coordinator",
        lambda w: (
            pk(w.case),
            {"subject": "student", "purposes": ["support"], "method": "written"}
            | {"given_on": str(TODAY())},
        ),
        "consent",
    ),
    ("api-case-plans", "post"): Write(
        "coordinator",
        lambda w: (
            pk(w.case),
            {"goals": ["목표"], "starts_on": str(TODAY())}
            | {"review_on": str(TODAY() + timedelta(days=30))},
        ),
        "plan",
    ),
    ("api-plan", "patch"): Write(
        "coordinator",
        lambda w: (lambda p: (pk(p), {"version": p.version, "goals": ["새 목표"]}))(make_plan(w)),
        "plan",
    ),
    ("api-plan-submit", "post"): Write(
        "coordinator", lambda w: (lambda p: (pk(p), {"version": p.version}))(make_plan(w)), "plan"
    ),
    ("api-plan-approve", "post"): Write(
        "principal", lambda w: (pk(make_plan(w, submitted=True)), {}), "plan"
    ),
    ("api-plan-return", "post"): Write(
        "principal", lambda w: (pk(make_plan(w, submitted=True)), {"reason": "보완"}), "plan"
    ),
    ("api-plan-interventions", "post"): Write(
        "coordinator",
        lambda w: (pk(make_plan(w)), {"domain": "counselling", "support_type": "counselling"}),
        "intervention",
    ),
    ("api-intervention-logs", "post"): Write(
        "coordinator",
        lambda w: (
            pk(
                planning.add_intervention(
                    make_plan(w),
                    by=w["coordinator"],
                    domain="counselling",
                    support_type="counselling",
                )
            ),
            {"occurred_on": str(TODAY()), "duration_minutes": 30, "note": "상담"},
        ),
        "service_log",
    ),
    ("api-meetings", "post"): Write(
        "coordinator",
        lambda w: (
            {},
            {"organization": str(w.school.pk), "kind": "school_team", "held_on": str(TODAY())}
            | {"attendees": [str(w["coordinator"].pk)], "minutes": "회의록"},
        ),
        "meeting",
    ),
    ("api-referrals", "post"): Write(
        "coordinator",
        lambda w: (
            {},
            {"case": str(w.case.pk), "kind": "service", "to_organization": str(w.partner_org.pk)}
            | {"service": str(w.service.pk), "reason": "상담 필요"}
            | {"shared_fields": ["student_name", "grade"]},
        ),
        "referral",
    ),
    ("api-referral-send", "post"): referral_action("draft", "coordinator"),
    ("api-referral-open", "post"): referral_action("sent", "partner"),
    ("api-referral-accept", "post"): referral_action("sent", "partner"),
    ("api-referral-decline", "post"): referral_action("sent", "partner", {"reason": "정원 초과"}),
    ("api-referral-start", "post"): referral_action("accepted", "partner"),
    ("api-referral-complete", "post"): referral_action("in_progress", "partner", {"outcome": "끝"}),
    ("api-referral-cancel", "post"): referral_action("sent", "coordinator", {"reason": "불필요"}),
    ("api-referral-assign", "post"): Write(
        "partnerlead",
        lambda w: (pk(make_referral(w, "sent")), {"assignee": str(w["partner"].pk)}),
        "referral",
    ),
    ("api-referral-messages", "post"): Write(
        "partner",
        lambda w: (pk(make_referral(w, "sent")), {"body": "연락 부탁"}),
        "referral_message",
    ),
    ("api-consent-withdraw", "post"): Write(
        "coordinator", lambda w: (pk(w.consent), {"reason": "철회 요청"}), "consent"
    ),
    ("api-transfers", "post"): Write(
        "coordinator",
        lambda w: (
            {},
            {"case": str(w.case.pk), "to_school": str(w.other_school.pk), "reason": "전학"},
        ),
        "transfer",
    ),
    ("api-transfer-accept", "post"): Write(
        "coordinator2", lambda w: (pk(make_transfer(w)), {}), "transfer"
    ),
    ("api-transfer-decline", "post"): Write(
        "coordinator2", lambda w: (pk(make_transfer(w)), {"reason": "정원"}), "transfer"
    ),
    ("api-transfer-cancel", "post"): Write(
        "coordinator", lambda w: (pk(make_transfer(w)), {}), "transfer"
    ),
    ("api-transfer-claim-confirm", "post"): Write(
        "coordinator", lambda w: (pk(make_claim(w)), {}), "transfer_claim"
    ),
    ("api-transfer-claim-decline", "post"): Write(
        "coordinator", lambda w: (pk(make_claim(w)), {"reason": "다른 학생"}), "transfer_claim"
    ),
    ("api-notification-read", "post"): Write(
        "coordinator",
        lambda w: (pk(Notification.objects.filter(recipient=w["coordinator"]).first()), {}),
        "notification",
    ),
}
# A second call of a route that answers two ways: the new school's claim (202).
CLAIM = Write(
    "coordinator2",
    lambda w: (
        {},
        {
            "claim": {
                "neis_id": w.case.student.neis_id,
                "name": w.case.student.name,
                "birth_date": str(w.case.student.birth_date),
            },
            "reason": "전학 옴",
        },
    ),
    "transfer_claim",
)
WRITES[("api-case-break-glass", "post")] = Write(
    "privacy",
    lambda w: (pk(w.case), {"reason": "학생 안전 확인"}),
    "case",
    lambda w, body: str(body["case"]),
)


def _last_month_read(w):
    """A night read of last month, so that its review has a finding."""
    month = reviews.previous_month(TODAY())
    when = timezone.make_aware(datetime.combine(month.replace(day=20), time(23, 30)))
    audit.record_access_at(when, w["coordinator"], "view", "case", [w.case], case=w.case)
    return month


def _asked_finding(w, status="asked"):
    review = AccessReview.objects.create(office=w.province, month=TODAY().replace(day=1))
    return ReviewFinding.objects.create(
        review=review,
        kind="after_hours",
        user=w["coordinator"],
        count=1,
        status=status,
        question="사유를 알려 주세요.",
    )


WRITES[("api-audit-reviews", "post")] = Write(
    "privacy",
    lambda w: ({}, {"month": _last_month_read(w).strftime("%Y-%m")}),
    "review_finding",
    lambda w, body: body["findings"][0]["id"],
)
WRITES[("api-audit-finding-ask", "post")] = Write(
    "privacy",
    lambda w: (pk(_asked_finding(w, "answered")), {"question": "다시 알려 주세요."}),
    "review_finding",
)
WRITES[("api-audit-finding-answer", "post")] = Write(
    "coordinator",
    lambda w: (pk(_asked_finding(w)), {"answer": "야간 상담"}),
    "review_finding",
)
WRITES[("api-audit-finding-close", "post")] = Write(
    "privacy",
    lambda w: (pk(_asked_finding(w)), {"resolution": "확인함"}),
    "review_finding",
)
WRITES[("api-exports", "post")] = Write(
    "coordinator",
    lambda w: ({}, {"kind": "case_list", "params": {}, "reason": "사례 회의 자료"}),
    "job",
    lambda w, body: body["job"]["id"],
)
# Writes that answer no personal data.
NO_PERSONAL_DATA = {
    ("api-student-import", "post"): "answers the job's id only; /jobs/{id}/ is the logged read",
    ("api-case-team-member", "delete"): "answers 204 without a body",
    ("api-alerts", "post"): "answers the alert's id and status only, never the child's match",
    ("api-indicator-import", "post"): "answers the job's id only; /jobs/{id}/ is the logged read",
    ("api-indicator-rules", "put"): "answers the school's thresholds, no person",
}
WRITE_METHODS = ("post", "put", "patch", "delete")


def write_routes() -> list[tuple[str, str]]:
    """Every (route name, method) of the casework API that writes, from the URL conf."""
    found = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
                continue
            assert isinstance(pattern, URLPattern)
            view = pattern.callback.view_class
            found.extend((pattern.name, m) for m in WRITE_METHODS if hasattr(view, m))

    walk(api_urls.urlpatterns)
    return found


def test_every_write_route_has_an_entry():
    missing = [key for key in write_routes() if key not in WRITES and key not in NO_PERSONAL_DATA]
    assert not missing, f"write routes without an entry in WRITES: {missing}"
    stale = set(WRITES) | set(NO_PERSONAL_DATA)
    assert not stale - set(write_routes()), stale - set(write_routes())


@pytest.fixture
def site(world):
    """A selected case of 이음초등학교 with both consents to share with the youth centre, a raised
    concern and a notification for the coordinator; the centre's agreement, service and lead."""
    AgreementFactory(
        office=world.province,
        partner=world.partner_org,
        allowed_fields=["student_name", "grade", "reason"],
    )
    world.service = ServiceFactory(organization=world.partner_org, name="청소년 상담")
    lead = UserFactory(username="partnerlead")
    MembershipFactory(user=lead, organization=world.partner_org, role=Role.PARTNER_LEAD)
    world.users["partnerlead"] = lead
    student = StudentFactory(school=world.school, neis_id="N-0042")
    world.case = select_case(
        world,
        intake.open_case(by=world["coordinator"], student=student, difficulties=["psychological"]),
    )
    guardian = {"guardian_name": "김보호", "relation": "모"}
    for subject, extra in (("student", {}), ("guardian", guardian)):
        world.consent = records.record_consent(
            world.case,
            by=world["coordinator"],
            subject=subject,
            purposes=["support", "share_with_partners"],
            method="written",
            given_on=TODAY(),
            **extra,
        )
    world.other_student = StudentFactory(school=world.school)
    world.concern = intake.raise_concern(
        by=world["teacher"], student=StudentFactory(school=world.school), difficulties=["health"]
    )
    return world


def call(w, key, write: Write):
    name, method = key
    kwargs, body = write.build(w)
    client = api(w, write.user)
    mark = last_event_id()
    answer = getattr(client, method)(reverse(name, kwargs=kwargs), body, format="json")
    assert 200 <= answer.status_code < 300, (key, answer.status_code, answer.content[:300])
    shown = write.shown(w, answer.json())
    logged = [e for e in events_after(mark, w[write.user]) if shown in e.object_ids]
    assert logged, f"{method.upper()} {name} answered {write.object_type} {shown} unlogged"
    assert {e.object_type for e in logged} == {write.object_type}, key


@pytest.mark.parametrize("key", sorted(WRITES), ids="-".join)
def test_a_write_answering_personal_data_writes_an_access_event(site, key):
    call(site, key, WRITES[key])


def test_a_transfer_claim_writes_an_access_event(site):
    call(site, ("api-transfers", "post"), CLAIM)


def test_a_restricted_note_is_amended_only_by_a_restricted_note(restricted):
    """A team note amending a restricted one would show its id to the whole team."""
    w = restricted
    url = f"/api/v1/cases/{w.case.pk}/notes/"
    body = {"kind": "counselling", "body": "정정", "amends": str(w.secret.pk)}
    team_note = api(w, "counselor").post(url, {**body, "confidentiality": "team"}, format="json")
    assert team_note.status_code == 400 and "confidentiality" in team_note.json()
    kept = api(w, "counselor").post(url, {**body, "confidentiality": "restricted"}, format="json")
    assert kept.status_code == 201
    assert str(w.secret.pk) not in api(w, "vice").get(url).content.decode()
