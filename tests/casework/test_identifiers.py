"""Personal identifiers in free text (DESIGN.md §9): a 주민등록번호 or 외국인등록번호 in any free
text of casework is refused with a clear error beside the field, whatever writes it; telephone
numbers in a packet's free text are masked unless the guardian's contact is shared."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from casework.models import Concern, Note
from casework.workflows import intake, planning, records
from casework.workflows import referrals as wf
from core.identifiers import has_resident_number, mask_phone_numbers
from tests.builders import as_user, select_case
from tests.factories import ServiceFactory, StudentFactory

pytestmark = pytest.mark.django_db
REFUSED = "주민등록번호나 외국인등록번호로 보이는 번호"


@pytest.mark.parametrize(
    "text",
    ["주민번호 100101-3123456", "1001013123456", "외국인 050505-5123456 학생", "100101 - 4123456"],
)
def test_resident_numbers_are_found(text):
    assert has_resident_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "010-1234-5678",
        "2026-12-01 상담",
        "사례 2026-S0001-0012",
        "101301-3123456",  # month 13: not a date
        "100101-9123456",  # seventh digit 9: not a registration number
        "12345678901234",
        "",
    ],
)
def test_other_numbers_are_not(text):
    assert not has_resident_number(text)


def test_phone_numbers_are_masked():
    assert mask_phone_numbers("어머니 010-1234-5678로 연락") == "어머니 ***-****-****로 연락"
    assert mask_phone_numbers("센터 (02)1234-5678") == "센터 (**)****-****"
    assert mask_phone_numbers("+82 10 1234 5678 번") == "+** ** **** **** 번"
    assert mask_phone_numbers("2026-12-01") == "2026-12-01"


def api(world, username):
    client = APIClient()
    client.force_authenticate(world[username])
    return client


def test_a_note_with_a_resident_number_is_refused_over_the_api(world, opened_case):
    answer = api(world, "coordinator").post(
        f"/api/v1/cases/{opened_case.pk}/notes/",
        {"kind": "call", "body": "보호자가 알려 준 번호 100101-3123456"},
        format="json",
    )
    assert answer.status_code == 400
    assert REFUSED in answer.json()["body"][0]
    assert not Note.objects.exists()


def test_a_note_with_a_resident_number_comes_back_with_the_error_beside_the_field(
    client, world, opened_case
):
    as_user(client, world, "coordinator")
    body = "번호 1001013123456 확인"
    answer = client.post(
        reverse("casework:case_action", args=[opened_case.pk, "note"]),
        {"kind": "call", "confidentiality": "team", "body": body},
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert REFUSED in html and body in html and "form-hint-invalid" in html


@pytest.mark.parametrize("where", ["concern", "case", "plan", "message", "referral"])
def test_every_free_text_is_checked(world, opened_case, net, where):
    coordinator = world["coordinator"]
    number = "050505-5123456"
    with pytest.raises(ValidationError) as refused:
        if where == "concern":
            intake.raise_concern(
                by=world["teacher"],
                student=StudentFactory(school=world.school),
                difficulties=["health"],
                description=f"외국인등록번호 {number}",
            )
        elif where == "case":
            records.update_case(opened_case, by=coordinator, version=None, summary=number)
        elif where == "plan":
            planning.create_plan(
                select_case(world, opened_case),
                by=coordinator,
                goals=[f"등록번호 {number} 확인"],
                starts_on=opened_case.opened_on,
                review_on=opened_case.opened_on.replace(year=opened_case.opened_on.year + 1),
            )
        else:
            case = select_case(world, opened_case)
            referral = wf.create_referral(
                case,
                by=coordinator,
                kind="service",
                to_organization=world.partner_org,
                service=ServiceFactory(organization=world.partner_org),
                reason="상담 필요" if where == "message" else f"번호 {number}",
                shared_fields=["student_name"],
                legal_basis="emergency",
                justification="자해 위험",
            )
            referral = wf.send_referral(referral, by=coordinator)
            wf.post_message(referral, by=coordinator, body=f"번호 {number}")
    assert REFUSED in str(refused.value)
    assert not Concern.objects.filter(description__contains=number).exists()


def test_a_row_already_holding_a_number_is_not_blocked_on_another_change(world, opened_case):
    """Data saved before the check stays editable in its other fields."""
    type(opened_case).objects.filter(pk=opened_case.pk).update(summary="옛 기록 100101-3123456")
    opened_case.refresh_from_db()
    records.update_case(opened_case, by=world["coordinator"], version=None, risk_level="crisis")
    opened_case.refresh_from_db()
    assert opened_case.risk_level == "crisis"
    with pytest.raises(ValidationError):
        records.update_case(
            opened_case, by=world["coordinator"], version=None, summary="새 번호 1001013123456"
        )


@pytest.mark.parametrize("shared", [["student_name"], ["student_name", "guardian_contact"]])
def test_phone_numbers_in_a_packet_go_only_with_the_guardian_contact(
    world, opened_case, net, shared
):
    case = select_case(world, opened_case)
    referral = wf.create_referral(
        case,
        by=world["coordinator"],
        kind="service",
        to_organization=world.partner_org,
        service=ServiceFactory(organization=world.partner_org),
        reason="어머니(010-1234-5678)와 통화 후 의뢰",
        requested_support="방과 후 02-123-4567로 연락",
        shared_fields=[*shared, "reason", "requested_support"],
        legal_basis="emergency",
        justification="자해 위험",
    )
    referral = wf.send_referral(referral, by=world["coordinator"])
    fields = referral.packet["fields"]
    if "guardian_contact" in shared:
        assert "010-1234-5678" in fields["reason"]
        assert "02-123-4567" in fields["requested_support"]["text"]
    else:
        assert fields["reason"] == "어머니(***-****-****)와 통화 후 의뢰"
        assert "02-123-4567" not in fields["requested_support"]["text"]
    assert referral.reason == "어머니(010-1234-5678)와 통화 후 의뢰"  # the sender's own record
