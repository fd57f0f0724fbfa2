"""The referral, consent-withdrawal and transfer API (API.md): the journeys over HTTP, the
receiver's packet-only view, status codes, access events and bounded queries."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from casework.models import AccessEvent, Referral
from casework.workflows import referrals as wf
from tests.builders import consent, service_referral
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def api(world, username):
    client = APIClient()
    client.force_authenticate(world[username])
    return client


@pytest.fixture
def consented_case(net):
    """박서준's case (his father 박보호 is on file), with both consents to share with partners;
    the guardian's consent is `net.guardian_consent`."""
    from casework.workflows import intake

    student = StudentFactory(school=net.school, name="박서준")
    student.guardians.create(name="박보호", relation="부", phone="010-2222-3333")
    case = intake.open_case(by=net["coordinator"], student=student, difficulties=["economic"])
    consent(net, case, "student")
    net.guardian_consent = consent(net, case, "guardian")
    return case


def test_partner_referral_over_the_api_closes_the_loop(net, consented_case):
    coordinator, partner = api(net, "coordinator"), api(net, "partner")
    created = coordinator.post(
        "/api/v1/referrals/",
        {
            "case": str(consented_case.pk),
            "kind": "service",
            "to_organization": str(net.partner_org.pk),
            "service": str(net.service.pk),
            "reason": "상담 연계",
            "requested_domains": ["counselling"],
            "requested_support": "개인 상담",
            "shared_fields": ["student_name", "grade", "reason"],
            "legal_basis": "consent",
            "urgency": "high",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and body["side"] == "sender" and body["case"]["id"]
    rid = body["id"]
    assert partner.get(f"/api/v1/referrals/{rid}/").status_code == 404  # drafts stay home
    sent = coordinator.post(f"/api/v1/referrals/{rid}/send/", {"version": body["version"]})
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert sent.json()["packet"]["fields"] == {
        "student_name": "박서준",
        "grade": 4,
        "reason": "상담 연계",
    }

    inbox = partner.get("/api/v1/referrals/?box=inbox").json()
    assert [r["id"] for r in inbox["results"]] == [rid]
    seen = partner.get(f"/api/v1/referrals/{rid}/").json()
    assert seen["side"] == "receiver"
    assert "case" not in seen and "requested_support" not in seen and "consent" not in seen
    assert set(seen["packet"]["fields"]) == {"student_name", "grade", "reason"}
    assert seen["status"] == "sent"  # reading does not open it
    assert partner.get(f"/api/v1/cases/{consented_case.pk}/").status_code == 404

    assert partner.post(f"/api/v1/referrals/{rid}/open/").json()["status"] == "received"
    assert partner.post(f"/api/v1/referrals/{rid}/accept/").json()["status"] == "accepted"
    assert partner.post(f"/api/v1/referrals/{rid}/start/").json()["status"] == "in_progress"
    message = partner.post(f"/api/v1/referrals/{rid}/messages/", {"body": "첫 상담 완료"})
    assert message.status_code == 201
    assert partner.post(f"/api/v1/referrals/{rid}/complete/", {}).status_code == 400
    done = partner.post(f"/api/v1/referrals/{rid}/complete/", {"outcome": "6회 상담 종결"})
    assert done.status_code == 200 and done.json()["status"] == "completed"

    mine = coordinator.get(f"/api/v1/referrals/{rid}/").json()
    assert mine["outcome"] == "6회 상담 종결"
    assert [m["body"] for m in mine["thread"]] == ["첫 상담 완료"]
    outbox = coordinator.get("/api/v1/referrals/?box=outbox&status=completed").json()
    assert [r["id"] for r in outbox["results"]] == [rid]
    assert AccessEvent.objects.filter(
        user=net["partner"], object_type="referral", action="view"
    ).exists()


def test_escalation_and_decision_over_the_api(net, consented_case):
    coordinator, centre = api(net, "coordinator"), api(net, "centrehead")
    body = {
        "case": str(consented_case.pk),
        "kind": "escalation",
        "to_organization": str(net.nambu.pk),
        "reason": "학교 내 지원 한계",
    }
    # The consents on file cover partners only: an escalation needs them for the office too.
    refused = coordinator.post("/api/v1/referrals/", body, format="json")
    assert refused.status_code == 409 and "교육지원청 정보 제공" in refused.json()["detail"]
    english = coordinator.post(
        "/api/v1/referrals/", body, format="json", HTTP_ACCEPT_LANGUAGE="en"
    ).json()["detail"]
    assert english.startswith("To share information with 서울특별시남부교육지원청")
    assert "'Sharing with the district office'" in english
    consents = {}
    for subject, extra in (
        ("student", {}),
        ("guardian", {"guardian_name": "박보호", "relation": "부"}),
    ):
        answer = coordinator.post(
            f"/api/v1/cases/{consented_case.pk}/consents/",
            {
                "subject": subject,
                "purposes": ["support", "share_with_office"],
                "recipients": [],
                "method": "written",
                "given_on": TODAY().isoformat(),
                **extra,
            },
            format="json",
        )
        assert answer.status_code == 201, answer.json()
        consents[subject] = answer.json()["id"]
    created = coordinator.post(
        "/api/v1/referrals/", {**body, "consent": consents["student"]}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["consent"] == consents["student"]  # the consent the sender chose
    rid = created.json()["id"]
    coordinator.post(f"/api/v1/referrals/{rid}/send/")
    assert api(net, "casemanager2").get(f"/api/v1/referrals/{rid}/").status_code == 404
    assert api(net, "casemanager").post(f"/api/v1/referrals/{rid}/accept/").status_code == 403
    assert centre.post(f"/api/v1/referrals/{rid}/accept/", {}).status_code == 400
    accepted = centre.post(f"/api/v1/referrals/{rid}/accept/", {"reasons": "위기도 높음"})
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["decision_reasons"] == "위기도 높음"
    assert accepted.json()["side"] == "sender"  # the lead office now sees the case
    case_view = api(net, "casemanager").get(f"/api/v1/cases/{consented_case.pk}/").json()
    assert case_view["lead"]["id"] == str(net.nambu.pk) and case_view["status"] == "selected"


def test_status_codes(net, consented_case):
    coordinator = api(net, "coordinator")
    base = {
        "case": str(consented_case.pk),
        "kind": "service",
        "to_organization": str(net.other_partner_org.pk),
        "reason": "r",
    }
    no_agreement = coordinator.post("/api/v1/referrals/", base, format="json")
    assert no_agreement.status_code == 409 and no_agreement.json()["code"] == "guard"
    missing = coordinator.post("/api/v1/referrals/", {**base, "reason": ""}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    foreign = api(net, "coordinator2").post("/api/v1/referrals/", base, format="json")
    assert foreign.status_code == 404
    teacher = api(net, "teacher").post("/api/v1/referrals/", base, format="json")
    assert teacher.status_code == 404
    referral = wf.send_referral(service_referral(net, consented_case), by=net["coordinator"])
    path = f"/api/v1/referrals/{referral.pk}"
    assert coordinator.post(f"{path}/cancel/", {}).status_code == 400
    assert coordinator.post(f"{path}/send/").status_code == 409
    assert coordinator.post(f"{path}/accept/").status_code == 403
    assert api(net, "partner").post(f"{path}/cancel/", {"reason": "x"}).status_code == 403
    assert api(net, "partner").post(f"{path}/decline/", {}).status_code == 400
    assert api(net, "partner").post(f"{path}/start/").status_code == 409
    assert coordinator.get("/api/v1/referrals/?box=elsewhere").status_code == 400
    stale = api(net, "partner").post(f"{path}/accept/", {"version": 99})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"


def test_complete_answers_409_until_the_support_started(net, consented_case):
    referral = wf.send_referral(service_referral(net, consented_case), by=net["coordinator"])
    partner, path = api(net, "partner"), f"/api/v1/referrals/{referral.pk}"
    assert partner.post(f"{path}/accept/").json()["status"] == "accepted"
    early = partner.post(f"{path}/complete/", {"outcome": "바로 완료"})
    assert early.status_code == 409 and early.json()["code"] == "guard"
    assert partner.post(f"{path}/start/").json()["status"] == "in_progress"
    done = partner.post(f"{path}/complete/", {"outcome": "5회 상담"})
    assert done.status_code == 200 and done.json()["status"] == "completed"


def test_vice_principal_may_not_cancel_over_the_api(net, consented_case):
    referral = wf.send_referral(service_referral(net, consented_case), by=net["coordinator"])
    path = f"/api/v1/referrals/{referral.pk}"
    vice = api(net, "vice")
    assert vice.get(f"{path}/").json()["side"] == "sender"
    assert vice.post(f"{path}/cancel/", {"reason": "x"}).status_code == 403


def test_overdue_filter(net, consented_case):
    referral = wf.send_referral(service_referral(net, consented_case), by=net["coordinator"])
    other = wf.send_referral(
        service_referral(net, consented_case, reason="두 번째"), by=net["coordinator"]
    )
    Referral.objects.filter(pk=referral.pk).update(respond_by=TODAY() - timedelta(days=3))
    rows = api(net, "partner").get("/api/v1/referrals/?box=inbox&overdue=1").json()["results"]
    assert [r["id"] for r in rows] == [str(referral.pk)] and rows[0]["overdue"] is True
    assert other.pk not in {r["id"] for r in rows}


def test_consent_withdrawal_over_the_api(net, consented_case):
    referral = wf.send_referral(service_referral(net, consented_case), by=net["coordinator"])
    path = f"/api/v1/consents/{net.guardian_consent.pk}/withdraw/"
    assert api(net, "coordinator2").post(path, {"reason": "x"}).status_code == 404
    assert api(net, "coordinator").post(path, {}).status_code == 400
    answer = api(net, "coordinator").post(path, {"reason": "보호자 요청"})
    assert answer.status_code == 200 and answer.json()["withdrawn_on"] == TODAY().isoformat()
    assert api(net, "partner").get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
    assert api(net, "coordinator").post(path, {"reason": "again"}).status_code == 409


def test_transfer_over_the_api(net, consented_case):
    referral = wf.send_referral(service_referral(net, consented_case), by=net["coordinator"])
    coordinator, newcomer = api(net, "coordinator"), api(net, "coordinator2")
    created = coordinator.post(
        "/api/v1/transfers/",
        {"case": str(consented_case.pk), "to_school": str(net.other_school.pk), "reason": "이사"},
    )
    assert created.status_code == 201, created.json()
    tid = created.json()["id"]
    listed = newcomer.get("/api/v1/transfers/").json()["results"]
    assert [t["id"] for t in listed] == [tid] and listed[0]["student"]["name"] == "박서준"
    assert coordinator.post(f"/api/v1/transfers/{tid}/accept/").status_code == 403
    assert newcomer.post(f"/api/v1/transfers/{tid}/decline/", {}).status_code == 400
    accepted = newcomer.post(f"/api/v1/transfers/{tid}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert coordinator.get(f"/api/v1/cases/{consented_case.pk}/").status_code == 404
    assert coordinator.get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
    assert coordinator.get(f"/api/v1/transfers/{tid}/accept/").status_code in (404, 405)
    assert newcomer.get(f"/api/v1/cases/{consented_case.pk}/").json()["owner"]["id"] == str(
        net.other_school.pk
    )
    assert newcomer.get(f"/api/v1/referrals/{referral.pk}/").json()["side"] == "sender"
    # The open referral now has the new school as its sending side.
    outbox = newcomer.get("/api/v1/referrals/?box=outbox").json()["results"]
    assert [r["id"] for r in outbox] == [str(referral.pk)]
    assert outbox[0]["from_organization"]["id"] == str(net.other_school.pk)
    posted = newcomer.post(f"/api/v1/referrals/{referral.pk}/messages/", {"body": "새 학교입니다"})
    assert posted.status_code == 201
    cancelled = newcomer.post(f"/api/v1/referrals/{referral.pk}/cancel/", {"reason": "다시 연계"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    closed = newcomer.post(
        f"/api/v1/cases/{consented_case.pk}/transition/",
        {"to": "closed", "closure_reason": "no_longer_needed", "reason": "새 학교에서 지원"},
    )
    assert closed.status_code == 200, closed.json()


@pytest.mark.parametrize("size", [2, 8])
def test_referral_lists_have_bounded_queries(net, django_assert_max_num_queries, size):
    from casework.workflows import intake

    for i in range(size):
        student = StudentFactory(school=net.school)
        case = intake.open_case(by=net["coordinator"], student=student, difficulties=["economic"])
        consent(net, case, "student")
        consent(net, case, "guardian")
        wf.send_referral(service_referral(net, case, reason=f"사유 {i}"), by=net["coordinator"])
    for username, box in (("coordinator", "outbox"), ("partner", "inbox")):
        client = api(net, username)
        with django_assert_max_num_queries(14):
            answer = client.get(f"/api/v1/referrals/?box={box}")
        assert answer.json()["count"] == size


def test_transfer_claim_over_the_api_leaks_nothing(net, consented_case):
    consented_case.student.neis_id = "N-2026-0007"
    consented_case.student.save()
    newcomer, old = api(net, "coordinator2"), api(net, "coordinator")

    def claim(**named):
        student = {
            "neis_id": consented_case.student.neis_id,
            "name": consented_case.student.name,
            "birth_date": consented_case.student.birth_date.isoformat(),
            **named,
        }
        return newcomer.post(
            "/api/v1/transfers/", {"claim": student, "reason": "전학 옴"}, format="json"
        )

    matched, unmatched = claim(), claim(name="다른이름")
    assert matched.status_code == unmatched.status_code == 202
    shape = {k: v for k, v in matched.json().items() if k not in ("id", "name", "claimed_at")}
    other = {k: v for k, v in unmatched.json().items() if k not in ("id", "name", "claimed_at")}
    assert shape == other  # the same answer, case or no case
    assert shape["status"] == "pending" and shape["case"] is None and shape["side"] == "claimant"
    assert newcomer.get(f"/api/v1/cases/{consented_case.pk}/").status_code == 404
    assert (
        newcomer.post("/api/v1/transfers/", {"claim": {}, "reason": "r"}, format="json").status_code
        == 400
    )
    assert (
        api(net, "teacher")
        .post(
            "/api/v1/transfers/",
            {"claim": {"neis_id": "x", "name": "y", "birth_date": "2016-01-01"}, "reason": "r"},
            format="json",
        )
        .status_code
        == 403
    )

    listed = old.get("/api/v1/transfers/claims/").json()["results"]
    assert [c["id"] for c in listed] == [matched.json()["id"]]
    assert listed[0]["side"] == "old_school" and listed[0]["case"]["id"] == str(consented_case.pk)
    cid = matched.json()["id"]
    assert newcomer.post(f"/api/v1/transfers/claims/{cid}/confirm/").status_code == 403
    assert (
        newcomer.post(f"/api/v1/transfers/claims/{unmatched.json()['id']}/confirm/").status_code
        == 403
    )
    assert (
        api(net, "casemanager2").post(f"/api/v1/transfers/claims/{cid}/confirm/").status_code == 404
    )
    confirmed = old.post(f"/api/v1/transfers/claims/{cid}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    mine = {c["id"]: c for c in newcomer.get("/api/v1/transfers/claims/").json()["results"]}
    assert mine[cid]["status"] == "confirmed" and mine[cid]["case"]["id"] == str(consented_case.pk)
    assert newcomer.get(f"/api/v1/cases/{consented_case.pk}/").json()["owner"]["id"] == str(
        net.other_school.pk
    )
    assert old.get(f"/api/v1/cases/{consented_case.pk}/").status_code == 404
    assert old.get("/api/v1/transfers/claims/").json()["count"] == 0
