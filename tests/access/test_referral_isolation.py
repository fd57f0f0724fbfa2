"""Isolation of referrals beyond the main matrix (DESIGN.md §4–§5): the receiving partner sees
the packet and nothing of the case; the other partner, the other district and an uninvolved
office get 404 on every referral route; after a transfer the old school gets 404 everywhere."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

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
        records.record_consent(
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
    r, c = w.referral.pk, w.case.pk
    return {
        "api referral": ("get", f"/api/v1/referrals/{r}/"),
        "api messages": ("get", f"/api/v1/referrals/{r}/messages/"),
        "api open": ("post", f"/api/v1/referrals/{r}/open/"),
        "api case": ("get", f"/api/v1/cases/{c}/"),
        "api timeline": ("get", f"/api/v1/cases/{c}/timeline/"),
        "page referral": ("get", reverse("casework:referral_detail", args=[r])),
        "page action": ("post", reverse("casework:referral_action", args=[r, "open"])),
        "page case": ("get", reverse("casework:case_detail", args=[c])),
        "page refer": ("get", reverse("casework:referral_new", args=[c])),
    }


def statuses(world, username):
    client = APIClient()
    client.force_login(world[username])
    return {
        name: getattr(client, method)(path).status_code
        for name, (method, path) in routes(world).items()
        if method == "get" or not name.endswith("open")
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
    for name in ("api case", "api timeline", "page case", "page refer"):
        method, path = routes(sent)[name]
        assert getattr(client, method)(path).status_code == 404, name


def test_old_school_gets_404_after_transfer(sent):
    transfer = transfers.request_transfer(
        sent.case, by=sent["coordinator"], to_school=sent.other_school, reason="전학"
    )
    transfers.accept_transfer(transfer, by=sent["coordinator2"])
    for username in ("coordinator", "principal", "vice"):
        found = statuses(sent, username)
        assert set(found.values()) == {404}, (username, found)
    assert statuses(sent, "coordinator2")["api referral"] == 200
    assert statuses(sent, "partner")["api referral"] == 200  # the receiver is unaffected
