"""Referral and transfer pages as their users use them: the coordinator refers from the case
page with a preview, the partner works the inbox, the centre head decides, consent withdrawal
and transfers from the case page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import AccessEvent, Referral, Transfer
from casework.workflows import intake
from casework.workflows import referrals as wf
from tests.casework.test_referrals import NON_SENSITIVE, consent, service_referral
from tests.factories import AgreementFactory, ServiceFactory, StudentFactory

pytestmark = pytest.mark.django_db


def as_user(client, world, username):
    client.force_login(world[username])
    return client


@pytest.fixture
def net(world):
    world.agreement = AgreementFactory(
        office=world.province, partner=world.partner_org, allowed_fields=NON_SENSITIVE
    )
    world.service = ServiceFactory(
        organization=world.partner_org, name="청소년 개인상담", domains=["counselling"]
    )
    world.service.boroughs.add(world.borough)
    return world


@pytest.fixture
def case(net):
    student = StudentFactory(school=net.school, name="윤바다", home_borough=net.borough)
    case = intake.open_case(by=net["coordinator"], student=student, difficulties=["psychological"])
    consent(net, case, "student")
    net.guardian_consent = consent(net, case, "guardian")
    return case


def form_data(net, **extra):
    data = {
        "kind": "service",
        "requested_domains": ["counselling"],
        "target": f"svc:{net.service.pk}",
        "reason": "교우 관계 상담 필요",
        "requested_support": "개인 상담",
        "shared_fields": ["student_name", "grade", "reason"],
        "legal_basis": "consent",
        "urgency": "normal",
    }
    data.update(extra)
    return data


def test_coordinator_refers_with_a_preview_then_sends(client, net, case):
    as_user(client, net, "coordinator")
    page = client.get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    assert reverse("casework:referral_new", args=[case.pk]) in page
    form = client.get(
        reverse("casework:referral_new", args=[case.pk]), {"requested_domains": "counselling"}
    )
    html = form.content.decode()
    assert "청소년 개인상담" in html and "금천구정신건강복지센터" in html
    assert "협약 없음" in html  # the mental-health centre has no agreement: not selectable
    preview = client.post(
        reverse("casework:referral_new", args=[case.pk]), {**form_data(net), "intent": "preview"}
    )
    html = preview.content.decode()
    assert "받는 기관이 보게 될 내용" in html and "윤바다" in html and "교우 관계 상담 필요" in html
    assert not Referral.objects.exists()  # a preview keeps nothing
    sent = client.post(
        reverse("casework:referral_new", args=[case.pk]), {**form_data(net), "intent": "send"}
    )
    referral = Referral.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse(
        "casework:referral_detail", args=[referral.pk]
    )
    assert referral.status == "sent" and set(referral.packet["fields"]) == {
        "student_name",
        "grade",
        "reason",
    }


def test_refused_referral_keeps_the_form_and_says_why(client, net, case):
    as_user(client, net, "coordinator")
    answer = client.post(
        reverse("casework:referral_new", args=[case.pk]),
        {**form_data(net, shared_fields=["student_name", "benefit_status"]), "intent": "send"},
    )
    html = answer.content.decode()
    assert answer.status_code == 200 and "협약이 허용하지 않는" in html
    assert "교우 관계 상담 필요" in html  # nothing typed is lost
    assert not Referral.objects.exists()


def test_partner_works_the_inbox_and_closes_the_loop(client, net, case):
    referral = wf.send_referral(service_referral(net, case), by=net["coordinator"])
    Referral.objects.filter(pk=referral.pk).update(
        respond_by=timezone.localdate() - timedelta(days=2)
    )
    as_user(client, net, "partner")
    inbox = client.get(reverse("casework:referral_list")).content.decode()
    assert referral.number in inbox and "기한 지남" in inbox and "김하늘" not in inbox
    detail = client.get(reverse("casework:referral_detail", args=[referral.pk])).content.decode()
    assert "공유된 정보" in detail and "윤바다" in detail
    assert AccessEvent.objects.filter(user=net["partner"], object_type="referral").exists()
    act = reverse("casework:referral_action", args=[referral.pk, "accept"])
    assert client.post(act, {"text": ""}).status_code == 302
    client.post(
        reverse("casework:referral_action", args=[referral.pk, "message"]),
        {"body": "연락드렸습니다"},
    )
    client.post(reverse("casework:referral_action", args=[referral.pk, "start"]))
    empty = client.post(
        reverse("casework:referral_action", args=[referral.pk, "complete"]),
        {"text": ""},
        follow=True,
    )
    assert "결과를 적어 주세요" in empty.content.decode()
    client.post(
        reverse("casework:referral_action", args=[referral.pk, "complete"]),
        {"text": "5회 상담 후 종결"},
    )
    referral.refresh_from_db()
    assert referral.status == "completed" and referral.outcome == "5회 상담 후 종결"
    as_user(client, net, "coordinator")
    page = client.get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    assert "5회 상담 후 종결" in page and "결과 도착" in page


def test_centre_head_decides_an_escalation_with_reasons(client, net, case):
    as_user(client, net, "coordinator")
    client.post(
        reverse("casework:referral_new", args=[case.pk]),
        {
            "kind": "escalation",
            "reason": "학교 지원 한계",
            "shared_fields": ["student_name", "grade", "reason"],
            "legal_basis": "consent",
            "urgency": "high",
            "intent": "send",
        },
    )
    referral = Referral.objects.get(kind="escalation")
    assert referral.to_organization == net.nambu and referral.status == "sent"
    as_user(client, net, "casemanager")
    page = client.get(reverse("casework:referral_detail", args=[referral.pk])).content.decode()
    assert "센터장이 결정합니다" in page
    as_user(client, net, "centrehead")
    inbox = client.get(reverse("casework:referral_list"), {"kind": "escalation"}).content.decode()
    assert referral.number in inbox
    act = reverse("casework:referral_action", args=[referral.pk, "accept"])
    refused = client.post(act, {"text": ""}, follow=True).content.decode()
    assert "결정 사유를 적어 주세요" in refused
    client.post(act, {"text": "다기관 협력 필요"})
    referral.refresh_from_db()
    case.refresh_from_db()
    assert referral.status == "accepted" and case.lead == net.nambu


def test_consent_withdrawal_from_the_case_page(client, net, case):
    referral = wf.send_referral(service_referral(net, case), by=net["coordinator"])
    as_user(client, net, "coordinator")
    url = reverse("casework:consent_withdraw", args=[case.pk, net.guardian_consent.pk])
    answer = client.post(url, {"reason": "보호자 요청"}, follow=True).content.decode()
    assert "취소된 의뢰: 1건" in answer
    referral.refresh_from_db()
    assert referral.status == "cancelled"


def test_transfer_from_the_case_page(client, net, case):
    as_user(client, net, "coordinator")
    client.post(
        reverse("casework:transfer_request", args=[case.pk]),
        {"to_school": net.other_school.code, "reason": "이사"},
    )
    transfer = Transfer.objects.get()
    page = client.get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    assert "수락을 기다리고 있습니다" in page
    as_user(client, net, "coordinator2")
    listing = client.get(reverse("casework:transfer_list")).content.decode()
    assert "윤바다" in listing and "이관 수락" in listing
    answer = client.post(reverse("casework:transfer_action", args=[transfer.pk, "accept"]))
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "casework:case_detail", args=[case.pk]
    )
    as_user(client, net, "coordinator")
    assert client.get(reverse("casework:case_detail", args=[case.pk])).status_code == 404


@pytest.mark.parametrize("size", [2, 8])
def test_referral_pages_have_bounded_queries(client, net, django_assert_max_num_queries, size):
    last = None
    for i in range(size):
        case = intake.open_case(
            by=net["coordinator"], student=StudentFactory(school=net.school), difficulties=[]
        )
        consent(net, case, "student")
        consent(net, case, "guardian")
        last = wf.send_referral(service_referral(net, case, reason=f"r{i}"), by=net["coordinator"])
    wf.post_message(last, by=net["partner"], body="m")
    for username in ("partner", "coordinator"):
        as_user(client, net, username)
        for url in (
            reverse("casework:referral_list"),
            reverse("casework:referral_detail", args=[last.pk]),
        ):
            with django_assert_max_num_queries(30):
                assert client.get(url).status_code == 200
