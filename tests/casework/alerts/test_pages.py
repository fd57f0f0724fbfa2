"""The sender's pages (학교에 알리기, 보낸 알림) and the menu: the form keeps what was typed and
says what is wrong beside each field; the list shows when and the status, the same for a known
and an unknown child."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from casework.models import Alert

from .conftest import BIRTH

pytestmark = pytest.mark.django_db


def web(world, username) -> Client:
    client = Client()
    client.force_login(world[username])
    return client


def test_the_form_offers_the_schools_and_boroughs_near_the_sender(alerts_world):
    w = alerts_world
    page = web(w, "police").get(reverse("casework:alert_new"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "학교에 알리기" in text and 'name="birth_date"' in text and 'type="date"' in text
    assert f'value="{w.school.pk}"' in text  # 이음초등학교, in 금천구
    assert f'value="{w.other_school.pk}"' not in text  # 노원구: named over the API if need be
    assert 'value="11350"' in text and 'value="11545"' in text


def test_errors_show_beside_their_fields_and_the_input_is_kept(alerts_world):
    w = alerts_world
    future = BIRTH.replace(year=2999).isoformat()
    page = web(w, "police").post(
        reverse("casework:alert_new"),
        {"name": "김하늘", "birth_date": future, "description": "", "urgency": "high"},
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="id_birth_date_error"' in text and "오늘보다 뒤일 수 없습니다" in text
    assert 'id="id_description_error"' in text and "있었던 일을 적어 주세요" in text
    assert 'id="id_name_error"' not in text
    assert 'value="김하늘"' in text and f'value="{future}"' in text
    assert re.search(r'value="high"[^>]*checked', text)
    assert not Alert.objects.exists()


def test_a_sent_alert_goes_to_the_list_with_its_status(alerts_world):
    w = alerts_world
    client = web(w, "police")
    answer = client.post(
        reverse("casework:alert_new"),
        {
            "name": "김하늘",
            "birth_date": BIRTH.isoformat(),
            "school": str(w.school.pk),
            "description": "밤늦게 혼자 있었음",
            "urgency": "normal",
        },
    )
    assert answer.status_code == 302 and answer["Location"] == reverse("casework:alert_list")
    alert = Alert.objects.get()
    assert alert.concern.school == w.school
    text = client.get(reverse("casework:alert_list")).content.decode()
    assert f'id="alert-{alert.pk}"' in text and "전달 완료" in text
    assert "김하늘" not in text and "이음초등학교" not in text


def test_the_list_reads_the_same_for_a_known_and_an_unknown_child(alerts_world):
    w = alerts_world
    client = web(w, "police")
    rows = []
    for name in ("김하늘", "박모름"):
        client.post(
            reverse("casework:alert_new"),
            {
                "name": name,
                "birth_date": BIRTH.isoformat(),
                "description": "x",
                "urgency": "normal",
            },
        )
    text = client.get(reverse("casework:alert_list")).content.decode()
    for alert in Alert.objects.order_by("created_at"):
        row = re.search(rf'<tr id="alert-{alert.pk}">(.*?)</tr>', text, re.S).group(1)
        rows.append(re.sub(r"<td>[^<]*</td>", "", row, count=1))  # without the time
    known, unknown = rows
    assert known == unknown


@pytest.mark.parametrize("username", ["teacher", "coordinator", "casemanager", "analyst"])
def test_others_may_not_open_the_senders_pages(alerts_world, username):
    client = web(alerts_world, username)
    assert client.get(reverse("casework:alert_new")).status_code == 403
    assert client.get(reverse("casework:alert_list")).status_code == 403


def test_the_menu_shows_each_side_its_entry(alerts_world):
    w = alerts_world
    home = reverse("home")
    police = web(w, "police").get(home).content.decode()
    office = web(w, "casemanager").get(home).content.decode()
    teacher = web(w, "teacher").get(home).content.decode()
    sender, routing = (
        f'href="{reverse(name)}"' for name in ("casework:alert_list", "casework:alert_route_list")
    )
    assert sender in police and routing not in police
    assert routing in office and sender not in office
    assert sender not in teacher and routing not in teacher
