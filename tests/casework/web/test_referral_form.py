"""The referral form and the draft's send step: a draft is kept whatever the consent state, the
send step says exactly which consent is missing and records it in place, the directory names
the borough and lists each organisation once, the partner's acceptance memo is called so, and a
guardian's contact that is not the guardian who consented is flagged."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Guardian, Referral
from casework.workflows import consents, intake
from casework.workflows import referrals as wf
from casework.workflows.consent_gaps import consent_gaps
from tests.builders import as_user, consent, service_referral
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture
def unconsented_case(directory_net):
    """바람's case: the student consented to share with partners, the guardian not at all."""
    net = directory_net
    student = StudentFactory(school=net.school, name="이바람", home_borough=net.borough)
    case = intake.open_case(by=net["coordinator"], student=student, difficulties=["psychological"])
    consent(net, case, "student")
    return case


def typed(net, **extra):
    return {
        "kind": "service",
        "requested_domains": ["counselling"],
        "target": f"svc:{net.service.pk}",
        "reason": "등교를 힘들어해 상담이 필요합니다",
        "requested_support": "주 1회 상담",
        "shared_fields": ["student_name", "grade", "reason"],
        "legal_basis": "consent",
        "urgency": "normal",
        **extra,
    }


def test_a_draft_is_kept_without_consent_and_its_send_step_records_the_missing_one(
    client, directory_net, unconsented_case
):
    net = directory_net
    as_user(client, net, "coordinator")
    url = reverse("casework:referral_new", args=[unconsented_case.pk])
    form = client.get(url, {"target": f"svc:{net.service.pk}"}).content.decode()
    assert "보호자 동의가 없습니다." in form and "학생 동의가" not in form
    saved = client.post(url, {**typed(net), "intent": "draft"})
    referral = Referral.objects.get()
    assert saved.status_code == 302 and referral.status == "draft"
    assert referral.reason == "등교를 힘들어해 상담이 필요합니다"
    detail = reverse("casework:referral_detail", args=[referral.pk])
    page = client.get(detail).content.decode()
    assert "보호자 동의가 없습니다." in page and 'id="consent-record"' in page
    send = reverse("casework:referral_action", args=[referral.pk, "send"])
    client.post(send, {"version": referral.version})
    referral.refresh_from_db()
    assert referral.status == "draft"  # sending still needs the consent
    record = reverse("casework:referral_action", args=[referral.pk, "consent"])
    fields = {
        "consent-subject": "guardian",
        "consent-purposes": ["support", "share_with_partners"],
        "consent-method": "written",
        "consent-given_on": TODAY().isoformat(),
    }
    # Typed wrong, the page comes back with what was typed and the error beside the field.
    wrong = client.post(record, fields)
    html = wrong.content.decode()
    assert wrong.status_code == 200 and "보호자의 이름과 관계를 적어 주세요" in html
    assert 'value="share_with_partners"' in html and unconsented_case.consents.count() == 1
    done = client.post(
        record, {**fields, "consent-guardian_name": "이보호", "consent-relation": "모"}
    )
    assert done.status_code == 302 and done["Location"].startswith(detail)
    page = client.get(detail).content.decode()
    assert "보호자 동의를 기록했습니다" in page and "보호자 동의가 없습니다." not in page
    client.post(send, {"version": referral.version})
    referral.refresh_from_db()
    assert referral.status == "sent" and referral.consent.guardian_name == "이보호"


def test_the_gaps_say_exactly_what_is_missing(directory_net, unconsented_case):
    net, case = directory_net, unconsented_case
    receiver = net.partner_org
    assert [g["text"] for g in consent_gaps(case, receiver)] == ["보호자 동의가 없습니다."]
    consent(net, case, "guardian", purposes=("support",))
    assert [g["text"] for g in consent_gaps(case, receiver)] == [
        "보호자 동의에 '협력기관 정보 제공' 목적이 없습니다."
    ]
    consent(net, case, "guardian", recipients=["mental_health"])
    assert consent_gaps(case, receiver)[0]["text"] == (
        f"보호자 동의의 제공받는 기관에 {receiver.name}이(가) 없습니다."
    )
    later = TODAY() + timedelta(days=10)
    consent(net, case, "guardian", expires_on=TODAY() + timedelta(days=5))
    case.consents.filter(subject="student").update(expires_on=TODAY() + timedelta(days=5))
    texts = [g["text"] for g in consent_gaps(case, receiver, day=later)]
    assert texts[0].startswith("학생 동의가 만료되었습니다") and len(texts) == 2
    assert consent_gaps(case, receiver) == []


def test_withdrawing_a_consent_leaves_drafts_alone(directory_net, unconsented_case):
    net = directory_net
    student = unconsented_case.consents.get()
    draft = wf.draft_referral(
        unconsented_case,
        by=net["coordinator"],
        kind="service",
        to_organization=net.partner_org,
        service=net.service,
        reason="상담 필요",
        shared_fields=["student_name"],
    )
    consents.withdraw_consent(student, by=net["coordinator"], reason="학생 요청")
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_errors_show_beside_the_fields_and_typing_is_kept(client, directory_net, unconsented_case):
    as_user(client, directory_net, "coordinator")
    url = reverse("casework:referral_new", args=[unconsented_case.pk])
    html = client.post(url, {**typed(directory_net, reason=""), "intent": "draft"}).content.decode()
    assert re.search(r'form-conts is-error">\s*<textarea[^>]*name="reason"', html)
    assert 'class="form-hint-invalid"' in html and "주 1회 상담" in html
    assert not Referral.objects.exists()


def test_the_directory_names_the_borough_and_lists_each_organisation_once(
    client, directory_net, unconsented_case
):
    as_user(client, directory_net, "coordinator")
    url = reverse("casework:referral_new", args=[unconsented_case.pk])
    html = client.get(url, {"requested_domains": "counselling"}).content.decode()
    assert "학생이 사는 금천구에서" in html and "11545" not in html
    org = directory_net.partner_org.name
    assert html.count(f"<legend>{org}") == 1
    assert len(re.findall(rf"<label[^>]*>\s*{org}", html)) == 0  # its services sit under it
    assert 'for="directory-search"' in html


def test_the_partner_reads_an_acceptance_memo_not_decision_reasons(
    client, directory_net, referable_case
):
    referral = wf.send_referral(
        service_referral(directory_net, referable_case), by=directory_net["coordinator"]
    )
    as_user(client, directory_net, "partner")
    client.post(
        reverse("casework:referral_action", args=[referral.pk, "accept"]),
        {"text": "다음 주 첫 상담", "version": referral.version},
    )
    page = client.get(reverse("casework:referral_detail", args=[referral.pk])).content.decode()
    assert "수락 메모</strong>: 다음 주 첫 상담" in page and "결정 사유" not in page


def test_a_guardian_contact_not_of_the_consenting_guardian_is_flagged(
    client, directory_net, referable_case
):
    Guardian.objects.create(
        student=referable_case.student, name="윤아버지", relation="부", phone="010-1234-5678"
    )
    as_user(client, directory_net, "coordinator")
    url = reverse("casework:referral_new", args=[referable_case.pk])
    fields = ["student_name", "grade", "reason", "guardian_contact"]
    preview = client.post(
        url, {**typed(directory_net, shared_fields=fields), "intent": "preview"}
    ).content.decode()
    assert "동의한 보호자는 김보호(모)인데" in preview and "명부의 윤아버지(부)" in preview
    referral = wf.send_referral(
        service_referral(directory_net, referable_case), by=directory_net["coordinator"]
    )
    assert referral.packet["guardian_consent"] == {"name": "김보호", "relation": "모"}
    as_user(client, directory_net, "partner")
    page = client.get(reverse("casework:referral_detail", args=[referral.pk])).content.decode()
    assert "동의한 보호자는 김보호(모)인데" in page and "윤아버지(부)" in page
