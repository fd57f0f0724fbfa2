"""The forms of the case page: a refused form comes back as typed with its error beside the
field, every action confirms, and the next step is a checklist that links where each missing
record is made."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import SupportPlan
from tests.builders import approved_plan, as_user, consent, consent_both, select_case

pytestmark = pytest.mark.django_db


def do(case, action):
    return reverse("casework:case_action", args=[case.pk, action])


def page_of(case):
    return reverse("casework:case_detail", args=[case.pk])


def test_a_refused_consent_comes_back_as_typed_with_the_error_beside_the_field(
    client, world, opened_case
):
    as_user(client, world, "coordinator")
    answer = client.post(
        do(opened_case, "consent"),
        {
            "subject": "guardian",
            "relation": "고모",
            "purposes": ["support", "share_with_partners"],
            "method": "verbal_recorded",
            "given_on": timezone.localdate().isoformat(),
        },
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'value="고모"' in html
    assert 'value="verbal_recorded" selected' in html
    assert re.search(r'value="share_with_partners"[^>]*checked', html)
    assert 'id="id_guardian_name_error">보호자의 이름과 관계를 적어 주세요.' in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_guardian_name_error"' in html
    assert '<details id="consent-form" open>' in html
    assert "#consent-form" in html  # the form posts back to its own anchor
    assert not opened_case.consents.exists()


def test_a_cached_unbound_form_never_serves_what_someone_typed(client, world, opened_case):
    as_user(client, world, "coordinator")
    client.post(do(opened_case, "note"), {"kind": "call", "confidentiality": "team", "body": ""})
    client.post(do(opened_case, "note"), {"kind": "call", "confidentiality": "team", "body": " "})
    fresh = client.get(page_of(opened_case)).content.decode()
    assert "form-hint-invalid" not in fresh


def test_every_action_of_the_case_page_confirms(client, world, opened_case):
    case = select_case(world, opened_case)
    as_user(client, world, "coordinator")

    def said(action, data):
        answer = client.post(do(case, action), data, follow=True)
        assert answer.status_code == 200, action
        return [str(m) for m in answer.context["messages"]]

    assert said(
        "consent",
        {
            "subject": "student",
            "purposes": ["support"],
            "method": "written",
            "given_on": timezone.localdate().isoformat(),
        },
    ) == ["동의를 기록했습니다."]
    today = timezone.localdate()
    assert said(
        "plan",
        {"goals": "주 1회 상담", "starts_on": today.isoformat(), "review_on": "2099-01-01"},
    ) == ["1차 지원 계획을 저장했습니다."]
    plan = SupportPlan.objects.get(case=case)
    assert said(
        "intervention", {"plan": plan.pk, "domain": "counselling", "support_type": "counselling"}
    ) == ["지원 활동을 추가했습니다."]
    plan.refresh_from_db()
    assert said("plan_submit", {"plan": plan.pk, "version": plan.version}) == [
        "교장 승인을 요청했습니다. 승인되면 알림이 갑니다."
    ]
    assert said("note", {"kind": "call", "confidentiality": "team", "body": "보호자 통화"}) == [
        "기록을 추가했습니다."
    ]


def test_a_refusal_shows_inside_the_section_of_its_form(client, world, opened_case):
    as_user(client, world, "coordinator")
    answer = client.post(
        do(opened_case, "plan"),
        {"goals": "정서 안정", "starts_on": "2026-11-01", "review_on": "2026-12-01"},
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    section = html[html.index('id="plans"') :]
    assert "이 상태의 사례에는 지원 계획을 세울 수 없습니다." in section.split("</section>")[0]
    assert 'role="alert"' in section.split("</section>")[0]


def test_a_bad_transfer_keeps_the_reason_and_says_why(client, world, opened_case):
    as_user(client, world, "coordinator")
    answer = client.post(
        reverse("casework:transfer_request", args=[opened_case.pk]),
        {"to_school": "없는학교", "reason": "가족 이사"},
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "가족 이사" in html and "학교를 찾을 수 없습니다" in html


def test_review_shows_the_missing_decision_with_the_meeting_link_and_no_select_button(
    client, world, opened_case
):
    as_user(client, world, "coordinator")
    client.post(do(opened_case, "transition"), {"to": "reviewing", "version": opened_case.version})
    html = client.get(page_of(opened_case)).content.decode()
    meeting = f"{reverse('casework:meeting_new')}?case={opened_case.pk}"
    assert meeting in html and "회의의 선정 결정" in html
    assert "선정 단계로" not in html
    assert "미선정으로 마치기" in html and "사례 종결" in html
    form = client.get(meeting).content.decode()
    assert f'<option value="{opened_case.pk}" selected>' in form
    assert '<option value="select" selected>' in form


def test_a_selected_case_links_each_missing_record(client, world, opened_case):
    case = select_case(world, opened_case)
    as_user(client, world, "coordinator")
    html = client.get(page_of(case)).content.decode()
    assert "?open=consent&amp;subject=guardian#consent-form" in html and 'href="#plans"' in html
    assert "지원 중 단계로" not in html
    opened = client.get(page_of(case), {"open": "consent", "subject": "guardian"}).content
    assert '<details id="consent-form" open>' in opened.decode()
    assert '<option value="guardian" selected>' in opened.decode()
    consent_both(world, case)
    approved_plan(world, case)
    assert "지원 중 단계로" in client.get(page_of(case)).content.decode()


def test_the_consent_list_and_form_say_purposes_recipients_and_expiry(client, world, opened_case):
    consent(
        world,
        opened_case,
        "guardian",
        recipients=["P0001"],
        expires_on=timezone.localdate().replace(year=timezone.localdate().year + 1),
    )
    as_user(client, world, "coordinator")
    html = client.get(page_of(opened_case)).content.decode()
    assert "목적: 지원 제공, 협력기관 정보 제공" in html
    assert "제공받는 기관: P0001" in html and "만료일: " in html
    assert "협력기관에 의뢰하려면 &#x27;협력기관 정보 제공&#x27;" in html
    assert 'aria-describedby="id_purposes_helptext"' in html


def test_plans_say_when_they_can_be_written_and_an_open_end_reads_from(client, world, opened_case):
    as_user(client, world, "coordinator")
    plans = reverse("casework:case_plans", args=[opened_case.pk])
    html = client.get(plans).content.decode()
    assert "검토 단계로 옮긴 뒤 작성할 수 있습니다" in html and "새 계획 작성" not in html
    case = select_case(world, opened_case)
    approved_plan(world, case)
    html = client.get(plans).content.decode()
    assert "부터" in html and "– ·" not in html
