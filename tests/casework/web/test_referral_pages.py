"""Referral and transfer pages as their users use them: the coordinator refers from the case
page with a preview, the partner works the inbox, the centre head decides, consent withdrawal
and transfers from the case page."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import AccessEvent, Referral, Transfer
from casework.workflows import intake
from casework.workflows import referrals as wf
from tests.builders import NON_SENSITIVE, as_user, consent, service_referral
from tests.factories import ServiceFactory, StudentFactory

pytestmark = pytest.mark.django_db


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


def test_coordinator_refers_with_a_preview_then_sends(client, directory_net, referable_case):
    mental = ServiceFactory(organization=directory_net.other_partner_org, name="정신건강 상담")
    mental.boroughs.add(directory_net.borough)
    as_user(client, directory_net, "coordinator")
    page = client.get(reverse("casework:case_detail", args=[referable_case.pk])).content.decode()
    assert reverse("casework:referral_new", args=[referable_case.pk]) in page
    form = client.get(
        reverse("casework:referral_new", args=[referable_case.pk]),
        {"requested_domains": "counselling"},
    )
    html = form.content.decode()
    assert "청소년 개인상담" in html and "금천구정신건강복지센터" in html
    assert "협약 없음" in html  # the mental-health centre has no agreement: not selectable
    preview = client.post(
        reverse("casework:referral_new", args=[referable_case.pk]),
        {**form_data(directory_net), "intent": "preview"},
    )
    html = preview.content.decode()
    assert "받는 기관이 보게 될 내용" in html and "윤바다" in html and "교우 관계 상담 필요" in html
    assert not Referral.objects.exists()  # a preview keeps nothing
    sent = client.post(
        reverse("casework:referral_new", args=[referable_case.pk]),
        {**form_data(directory_net), "intent": "send"},
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


def directory_values(html):
    return set(re.findall(r'name="target" id="[^"]+" value="([^"]+)"', html))


def test_directory_filters_organisations_and_services_by_the_same_domains(
    client, directory_net, referable_case
):
    health = ServiceFactory(
        organization=directory_net.other_partner_org, name="건강 검진", domains=["health"]
    )
    health.boroughs.add(directory_net.borough)
    youth, mental = directory_net.partner_org.pk, directory_net.other_partner_org.pk
    as_user(client, directory_net, "coordinator")
    url = reverse("casework:referral_new", args=[referable_case.pk])
    counselling = directory_values(
        client.get(url, {"requested_domains": "counselling"}).content.decode()
    )
    assert counselling == {f"svc:{directory_net.service.pk}", f"org:{youth}"}
    found = directory_values(client.get(url, {"requested_domains": "health"}).content.decode())
    assert found == {f"svc:{health.pk}", f"org:{mental}"}
    # No domain chosen (the case has none): every partner serving the borough, and its services.
    everything = directory_values(client.get(url).content.decode())
    assert everything == {
        f"svc:{directory_net.service.pk}",
        f"svc:{health.pk}",
        f"org:{youth}",
        f"org:{mental}",
    }


def ticked(html):
    return set(re.findall(r'name="shared_fields" value="([a-z_]+)"[^>]*checked', html))


def test_default_fields_are_those_the_chosen_receivers_agreement_allows(
    client, directory_net, referable_case
):
    directory_net.agreement.allowed_fields = ["student_name", "grade", "reason", "benefit_status"]
    directory_net.agreement.save()
    as_user(client, directory_net, "coordinator")
    url = reverse("casework:referral_new", args=[referable_case.pk])
    chosen = client.get(url, {"target": f"svc:{directory_net.service.pk}"}).content.decode()
    assert ticked(chosen) == {"student_name", "grade", "reason"}  # never the sensitive one
    assert "금천구청소년상담복지센터이(가) 받을 수 있는" in chosen
    # An escalation goes to the district office, which may get every non-sensitive field.
    office = client.get(url, {"kind": "escalation"}).content.decode()
    assert ticked(office) == set(NON_SENSITIVE)
    # Ticking beyond the agreement: the refusal names the partner and the fields.
    answer = client.post(
        url,
        {
            **form_data(directory_net, shared_fields=["student_name", "guardian_contact", "sex"]),
            "intent": "preview",
        },
    ).content.decode()
    assert (
        "금천구청소년상담복지센터과(와)의 정보공유 협약이 허용하지 않는 항목입니다: "
        "보호자 연락처, 성별. 이 항목을 빼고 보내세요."
    ) in answer


def test_refused_referral_keeps_the_form_and_says_why(client, directory_net, referable_case):
    as_user(client, directory_net, "coordinator")
    answer = client.post(
        reverse("casework:referral_new", args=[referable_case.pk]),
        {
            **form_data(directory_net, shared_fields=["student_name", "benefit_status"]),
            "intent": "send",
        },
    )
    html = answer.content.decode()
    assert answer.status_code == 200 and "협약이 허용하지 않는" in html
    assert "교우 관계 상담 필요" in html  # nothing typed is lost
    assert not Referral.objects.exists()


def test_partner_works_the_inbox_and_closes_the_loop(client, directory_net, referable_case):
    referral = wf.send_referral(
        service_referral(directory_net, referable_case), by=directory_net["coordinator"]
    )
    Referral.objects.filter(pk=referral.pk).update(
        respond_by=timezone.localdate() - timedelta(days=2)
    )
    as_user(client, directory_net, "partner")
    inbox = client.get(reverse("casework:referral_list")).content.decode()
    assert referral.number in inbox and "기한 지남" in inbox and "김하늘" not in inbox
    detail = client.get(reverse("casework:referral_detail", args=[referral.pk])).content.decode()
    assert "공유된 정보" in detail and "윤바다" in detail
    assert AccessEvent.objects.filter(
        user=directory_net["partner"], object_type="referral"
    ).exists()
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
    as_user(client, directory_net, "coordinator")
    page = client.get(reverse("casework:case_detail", args=[referable_case.pk])).content.decode()
    assert "5회 상담 후 종결" in page and "결과 도착" in page


def test_centre_head_decides_an_escalation_with_reasons(client, directory_net, referable_case):
    as_user(client, directory_net, "coordinator")
    url = reverse("casework:referral_new", args=[referable_case.pk])
    escalate = {
        "kind": "escalation",
        "reason": "학교 지원 한계",
        "shared_fields": ["student_name", "grade", "reason"],
        "legal_basis": "consent",
        "urgency": "high",
        "intent": "send",
    }
    # The consents on file cover partners, not the office: the form says so and where to record.
    page = client.get(url, {"kind": "escalation"}).content.decode()
    assert "'교육지원청 정보 제공' 목적이 담긴 동의가 더 필요합니다" in page
    assert f"/casework/cases/{referable_case.pk}/#consents" in page
    refused = client.post(url, escalate).content.decode()
    assert "교육지원청 정보 제공" in refused and "사례 화면의 동의 칸에서 기록하세요" in refused
    assert not Referral.objects.exists()
    for subject, extra in (
        ("student", {}),
        ("guardian", {"guardian_name": "윤보호", "relation": "모"}),
    ):
        client.post(
            reverse("casework:case_action", args=[referable_case.pk, "consent"]),
            {
                "subject": subject,
                "purposes": ["support", "share_with_office"],
                "method": "written",
                "given_on": timezone.localdate().isoformat(),
                **extra,
            },
        )
    page = client.get(url, {"kind": "escalation"}).content.decode()
    assert "서울특별시남부교육지원청에 보내는 근거 동의" in page
    client.post(url, escalate)
    referral = Referral.objects.get(kind="escalation")
    assert referral.consent.subject == "guardian"
    assert "share_with_office" in referral.consent.purposes
    assert referral.to_organization == directory_net.nambu and referral.status == "sent"
    as_user(client, directory_net, "casemanager")
    page = client.get(reverse("casework:referral_detail", args=[referral.pk])).content.decode()
    assert "센터장이 결정합니다" in page
    as_user(client, directory_net, "centrehead")
    inbox = client.get(reverse("casework:referral_list"), {"kind": "escalation"}).content.decode()
    assert referral.number in inbox
    act = reverse("casework:referral_action", args=[referral.pk, "accept"])
    refused = client.post(act, {"text": ""}, follow=True).content.decode()
    assert "결정 사유를 적어 주세요" in refused
    client.post(act, {"text": "다기관 협력 필요"})
    referral.refresh_from_db()
    referable_case.refresh_from_db()
    assert referral.status == "accepted" and referable_case.lead == directory_net.nambu


def test_reading_the_referral_page_never_opens_it(client, directory_net, referable_case):
    referral = wf.send_referral(
        service_referral(directory_net, referable_case), by=directory_net["coordinator"]
    )
    rows = referral.history.count()
    as_user(client, directory_net, "partner")
    for _ in range(2):
        page = client.get(reverse("casework:referral_detail", args=[referral.pk]))
        assert page.status_code == 200 and "접수" in page.content.decode()
    referral.refresh_from_db()
    assert referral.status == "sent" and referral.received_at is None
    assert referral.history.count() == rows


def test_completion_form_only_once_the_support_started(client, directory_net, referable_case):
    referral = wf.send_referral(
        service_referral(directory_net, referable_case), by=directory_net["coordinator"]
    )
    referral = wf.accept_referral(referral, by=directory_net["partner"])
    as_user(client, directory_net, "partner")
    detail = reverse("casework:referral_detail", args=[referral.pk])
    complete = reverse("casework:referral_action", args=[referral.pk, "complete"])
    html = client.get(detail).content.decode()
    assert complete not in html and "지원 시작" in html
    refused = client.post(complete, {"text": "바로 끝냄"}, follow=True).content.decode()
    assert "지원을 시작한 의뢰만 완료할 수 있습니다" in refused
    referral.refresh_from_db()
    assert referral.status == "accepted"
    wf.start_referral(referral, by=directory_net["partner"])
    assert complete in client.get(detail).content.decode()


def test_forms_only_for_those_who_may_use_them(client, directory_net, referable_case):
    """The vice-principal follows the school's referrals but does not cancel them; a lead
    office's case manager manages the case but does not move it between schools."""
    referral = wf.send_referral(
        service_referral(directory_net, referable_case), by=directory_net["coordinator"]
    )
    cancel = reverse("casework:referral_action", args=[referral.pk, "cancel"])
    detail = reverse("casework:referral_detail", args=[referral.pk])
    as_user(client, directory_net, "vice")
    assert cancel not in client.get(detail).content.decode()
    assert client.post(cancel, {"text": "x"}).status_code == 403  # the workflow agrees
    for username in ("coordinator", "principal"):
        as_user(client, directory_net, username)
        assert cancel in client.get(detail).content.decode(), username

    consent(directory_net, referable_case, "student", purposes=("share_with_office",))
    consent(directory_net, referable_case, "guardian", purposes=("share_with_office",))
    escalated = wf.send_referral(
        wf.create_referral(
            referable_case,
            by=directory_net["coordinator"],
            kind="escalation",
            to_organization=directory_net.nambu,
            reason="r",
        ),
        by=directory_net["coordinator"],
    )
    wf.accept_referral(escalated, by=directory_net["centrehead"], reasons="다기관 협력 필요")
    request_url = reverse("casework:transfer_request", args=[referable_case.pk])
    as_user(client, directory_net, "casemanager")
    page = client.get(reverse("casework:case_detail", args=[referable_case.pk])).content.decode()
    assert "협력기관에 의뢰하기" in page and request_url not in page
    assert client.post(request_url, {"to_school": "S0003", "reason": "r"}).status_code == 403
    as_user(client, directory_net, "coordinator")
    assert (
        request_url
        in client.get(reverse("casework:case_detail", args=[referable_case.pk])).content.decode()
    )


def test_consent_withdrawal_from_the_case_page(client, directory_net, referable_case):
    referral = wf.send_referral(
        service_referral(directory_net, referable_case), by=directory_net["coordinator"]
    )
    as_user(client, directory_net, "coordinator")
    url = reverse(
        "casework:consent_withdraw", args=[referable_case.pk, directory_net.guardian_consent.pk]
    )
    answer = client.post(url, {"reason": "보호자 요청"}, follow=True).content.decode()
    assert "취소된 의뢰: 1건" in answer
    referral.refresh_from_db()
    assert referral.status == "cancelled"


def test_transfer_from_the_case_page(client, directory_net, referable_case):
    as_user(client, directory_net, "coordinator")
    client.post(
        reverse("casework:transfer_request", args=[referable_case.pk]),
        {"to_school": directory_net.other_school.code, "reason": "이사"},
    )
    transfer = Transfer.objects.get()
    page = client.get(reverse("casework:case_detail", args=[referable_case.pk])).content.decode()
    assert "수락을 기다리고 있습니다" in page
    as_user(client, directory_net, "coordinator2")
    listing = client.get(reverse("casework:transfer_list")).content.decode()
    assert "윤바다" in listing and "이관 수락" in listing
    answer = client.post(reverse("casework:transfer_action", args=[transfer.pk, "accept"]))
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "casework:case_detail", args=[referable_case.pk]
    )
    as_user(client, directory_net, "coordinator")
    assert client.get(reverse("casework:case_detail", args=[referable_case.pk])).status_code == 404


def test_new_school_works_the_handed_over_referrals(client, directory_net, referable_case):
    referral = wf.send_referral(
        service_referral(directory_net, referable_case), by=directory_net["coordinator"]
    )
    transfer = Transfer.objects.create(
        case=referable_case,
        from_school=directory_net.school,
        to_school=directory_net.other_school,
        reason="r",
        requested_by=directory_net["coordinator"],
    )
    as_user(client, directory_net, "coordinator2")
    client.post(reverse("casework:transfer_action", args=[transfer.pk, "accept"]))
    outbox = client.get(reverse("casework:referral_list"), {"box": "outbox"}).content.decode()
    assert referral.number in outbox
    detail = client.get(reverse("casework:referral_detail", args=[referral.pk])).content.decode()
    assert reverse("casework:referral_action", args=[referral.pk, "cancel"]) in detail
    client.post(
        reverse("casework:referral_action", args=[referral.pk, "message"]),
        {"body": "새 학교 담당자입니다"},
    )
    client.post(
        reverse("casework:referral_action", args=[referral.pk, "cancel"]), {"text": "새로 연계"}
    )
    referral.refresh_from_db()
    assert (
        referral.status == "cancelled"
        and referral.messages.get().organization == directory_net.other_school
    )


@pytest.mark.parametrize("size", [2, 8])
def test_referral_pages_have_bounded_queries(
    client, directory_net, django_assert_max_num_queries, size
):
    last = None
    for i in range(size):
        case = intake.open_case(
            by=directory_net["coordinator"],
            student=StudentFactory(school=directory_net.school),
            difficulties=[],
        )
        consent(directory_net, case, "student")
        consent(directory_net, case, "guardian")
        last = wf.send_referral(
            service_referral(directory_net, case, reason=f"r{i}"), by=directory_net["coordinator"]
        )
    wf.post_message(last, by=directory_net["partner"], body="m")
    for username in ("partner", "coordinator"):
        as_user(client, directory_net, username)
        for url in (
            reverse("casework:referral_list"),
            reverse("casework:referral_detail", args=[last.pk]),
        ):
            with django_assert_max_num_queries(30):
                assert client.get(url).status_code == 200


def test_new_school_claims_and_the_old_school_confirms(client, directory_net, referable_case):
    referable_case.student.neis_id = "N-2026-0042"
    referable_case.student.save()
    as_user(client, directory_net, "coordinator2")
    listing = client.get(reverse("casework:transfer_list")).content.decode()
    assert (
        "전학 온 학생의 사례 이관 요청" in listing and reverse("casework:transfer_claim") in listing
    )
    answers = []
    for name in ("윤바다", "윤바닥"):  # the second names nobody
        answer = client.post(
            reverse("casework:transfer_claim"),
            {
                "neis_id": "N-2026-0042",
                "student_name": name,
                "birth_date": referable_case.student.birth_date.isoformat(),
                "reason": "3월에 전학 왔습니다",
            },
            follow=True,
        ).content.decode()
        answers.append(answer.replace(name, "*"))
    for answer in answers:  # the same answer, case or no case
        assert "이관 확인 요청을 기록했습니다" in answer
        assert referable_case.number not in answer and directory_net.school.name not in answer
    assert answers[1].count("확인 대기") == 2  # both claims, alike
    # The teacher, not a coordinator, may not claim.
    as_user(client, directory_net, "teacher")
    assert client.post(reverse("casework:transfer_claim"), {}).status_code == 403

    as_user(client, directory_net, "coordinator")
    received = client.get(reverse("casework:transfer_list")).content.decode()
    assert "전학 간 학교의 이관 확인 요청" in received and referable_case.number in received
    made = referable_case.transfer_claims.get()
    client.post(reverse("casework:transfer_claim_action", args=[made.pk, "confirm"]))
    referable_case.refresh_from_db()
    assert referable_case.owner == directory_net.other_school
    as_user(client, directory_net, "coordinator2")
    listing = client.get(reverse("casework:transfer_list")).content.decode()
    assert (
        "이관 완료" in listing
        and reverse("casework:case_detail", args=[referable_case.pk]) in listing
    )
