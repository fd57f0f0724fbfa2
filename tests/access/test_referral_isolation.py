"""Isolation of referrals beyond the main matrix (DESIGN.md §4–§5): the receiving partner sees
the packet and nothing of the case; the other partner, the other district and an uninvolved
office get 404 on every referral route; after a transfer the old school gets 404 everywhere."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from casework.models import Transfer
from casework.workflows import records, referrals, transfers
from tests.factories import AgreementFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(world):
    from casework.workflows import intake

    AgreementFactory(
        office=world.province,
        partner=world.partner_org,
        allowed_fields=["student_name", "grade", "reason"],
    )
    case = intake.open_case(
        by=world["coordinator"], student=StudentFactory(school=world.school), difficulties=[]
    )
    for subject, extra in (
        ("student", {}),
        ("guardian", {"guardian_name": "보", "relation": "모"}),
    ):
        world.consent = records.record_consent(
            case,
            by=world["coordinator"],
            subject=subject,
            purposes=["support", "share_with_partners"],
            method="written",
            given_on=case.opened_on,
            **extra,
        )
    referral = referrals.send_referral(
        referrals.create_referral(
            case,
            by=world["coordinator"],
            kind="service",
            to_organization=world.partner_org,
            reason="상담 연계",
            shared_fields=["student_name", "grade"],
        ),
        by=world["coordinator"],
    )
    world.case, world.referral = case, referral
    return world


def routes(w):
    """name → (method, path, body). The bodies are valid, so that a refusal can only be about
    who asks."""
    r, c, k = w.referral.pk, w.case.pk, w.consent.pk
    found = {
        "api referral": ("get", f"/api/v1/referrals/{r}/", None),
        "api messages": ("get", f"/api/v1/referrals/{r}/messages/", None),
        "api open": ("post", f"/api/v1/referrals/{r}/open/", None),
        "api case": ("get", f"/api/v1/cases/{c}/", None),
        "api timeline": ("get", f"/api/v1/cases/{c}/timeline/", None),
        "page referral": ("get", reverse("casework:referral_detail", args=[r]), None),
        "page action": ("post", reverse("casework:referral_action", args=[r, "open"]), None),
        "page case": ("get", reverse("casework:case_detail", args=[c]), None),
        "page refer": ("get", reverse("casework:referral_new", args=[c]), None),
        "api message post": ("post", f"/api/v1/referrals/{r}/messages/", {"body": "안녕하세요"}),
        "api cancel": ("post", f"/api/v1/referrals/{r}/cancel/", {"reason": "취소"}),
        "api consent withdraw": ("post", f"/api/v1/consents/{k}/withdraw/", {"reason": "철회"}),
        "page message": (
            "post",
            reverse("casework:referral_action", args=[r, "message"]),
            {"body": "안녕하세요"},
        ),
        "page cancel": (
            "post",
            reverse("casework:referral_action", args=[r, "cancel"]),
            {"text": "취소"},
        ),
        "page consent withdraw": (
            "post",
            reverse("casework:consent_withdraw", args=[c, k]),
            {"reason": "철회"},
        ),
        "page transfer request": (
            "post",
            reverse("casework:transfer_request", args=[c]),
            {"to_school": "S0001", "reason": "다시 전학"},
        ),
    }
    transfer = getattr(w, "transfer", None)
    if transfer is not None:
        t = transfer.pk
        for action in ("accept", "decline", "cancel"):
            found[f"api transfer {action}"] = (
                "post",
                f"/api/v1/transfers/{t}/{action}/",
                {"reason": "사유"},
            )
            found[f"page transfer {action}"] = (
                "post",
                reverse("casework:transfer_action", args=[t, action]),
                {"reason": "사유"},
            )
    made = getattr(w, "claim", None)
    if made is not None:
        for action in ("confirm", "decline"):
            found[f"api claim {action}"] = (
                "post",
                f"/api/v1/transfers/claims/{made.pk}/{action}/",
                {"reason": "사유"},
            )
            found[f"page claim {action}"] = (
                "post",
                reverse("casework:transfer_claim_action", args=[made.pk, action]),
                {"reason": "사유"},
            )
    return found


def statuses(world, username, methods=("get", "post")):
    client = APIClient()
    client.force_login(world[username])
    return {
        name: getattr(client, method)(path, data).status_code
        for name, (method, path, data) in routes(world).items()
        if method in methods
    }


@pytest.mark.parametrize("username", ["partner2", "casemanager2", "casemanager", "centrehead"])
def test_outsiders_get_404_on_every_referral_route(sent, username):
    assert set(statuses(sent, username).values()) == {404}


def test_receiver_sees_the_packet_and_never_the_case(sent):
    client = APIClient()
    client.force_login(sent["partner"])
    answer = client.get(f"/api/v1/referrals/{sent.referral.pk}/").json()
    assert answer["side"] == "receiver" and "case" not in answer
    page = client.get(reverse("casework:referral_detail", args=[sent.referral.pk]))
    assert page.status_code == 200
    html = page.content.decode().replace(sent.referral.number, "")
    assert f"/casework/cases/{sent.case.pk}/" not in html
    assert sent.case.number not in html
    for name in ("api case", "api timeline", "page case", "page refer", "api consent withdraw"):
        method, path, data = routes(sent)[name]
        assert getattr(client, method)(path, data).status_code == 404, name


def test_old_school_gets_404_after_transfer(sent):
    """Every route, reading and writing, answers the old school 404 once the case has moved,
    and nothing it sends changes anything."""
    sent.transfer = transfers.request_transfer(
        sent.case, by=sent["coordinator"], to_school=sent.other_school, reason="전학"
    )
    transfers.accept_transfer(sent.transfer, by=sent["coordinator2"])
    for username in ("coordinator", "principal", "vice"):
        found = statuses(sent, username)
        assert set(found.values()) == {404}, (username, found)
    sent.referral.refresh_from_db()
    sent.consent.refresh_from_db()
    assert sent.referral.status == "sent" and not sent.referral.messages.exists()
    assert sent.consent.withdrawn_on is None
    assert Transfer.objects.get(pk=sent.transfer.pk).status == "accepted"
    assert statuses(sent, "coordinator2", methods=("get",))["api referral"] == 200
    assert statuses(sent, "partner", methods=("get",))["api referral"] == 200  # unaffected


def test_old_school_gets_404_after_a_confirmed_claim(sent):
    """The same after the new school's claim is confirmed; and the claim itself is invisible to
    everyone but the two schools."""
    student = sent.case.student
    student.neis_id = "N-2026-0100"
    student.save()
    sent.claim = transfers.claim_transfer(
        by=sent["coordinator2"],
        neis_id=student.neis_id,
        student_name=student.name,
        birth_date=student.birth_date,
        reason="전학 옴",
    )
    for username in ("partner2", "casemanager2", "centrehead", "teacher"):
        found = {k: v for k, v in statuses(sent, username).items() if "claim" in k}
        assert set(found.values()) == {404}, (username, found)
    transfers.confirm_claim(sent.claim, by=sent["coordinator"])
    for username in ("coordinator", "principal", "vice"):
        found = statuses(sent, username)
        assert set(found.values()) == {404}, (username, found)
    sent.referral.refresh_from_db()
    assert sent.referral.status == "sent" and sent.referral.from_organization == sent.other_school
    assert statuses(sent, "coordinator2", methods=("get",))["page case"] == 200
