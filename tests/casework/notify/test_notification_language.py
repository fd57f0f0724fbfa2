"""Notifications read in the reader's language, whoever caused them: the page's language in-app
(Korean unless the language switch chose English),
Accept-Language in the API, Korean (the site language) in e-mails and the daily digest. Rows from
before notifications stored their params still show the text they stored."""

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from casework import tasks
from casework.models import Concern, Notification
from casework.models.notifications import MESSAGES
from casework.notify import delivery, notify
from casework.workflows import intake, lifecycle
from tests.factories import StudentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("locmem_email")]


@pytest.fixture
def triaged(world):
    """The coordinator, working in English, declines a concern: the teacher is told."""
    student = StudentFactory(school=world.school, name="김하늘")
    concern = intake.raise_concern(
        by=world["teacher"], student=student, difficulties=["basic_learning"], description="d"
    )
    with translation.override("en"):
        intake.triage_concern(
            concern, by=world["coordinator"], decision=Concern.Triage.NO_ACTION, reason="충분함"
        )
    return Notification.objects.get(recipient=world["teacher"], kind="concern_triaged")


KO_TRIAGED = "김하늘 학생 지원 요청 검토 결과: 조치 없음"
EN_TRIAGED = "Support request for 김하늘 reviewed: No action"


def test_stored_params_hold_only_the_message_fields(triaged):
    # no case came of it: the title names the student only
    assert triaged.params == {
        "name": "김하늘",
        "number": "",
        "result": "no_action",
        "variant": "no_case",
    }
    assert triaged.title == KO_TRIAGED  # the stored text is the site language's, not the actor's


def test_written_in_english_reads_in_korean_on_a_korean_page(client, world, triaged):
    client.force_login(world["teacher"])
    page = client.get(reverse("casework:notifications")).content
    assert KO_TRIAGED in page.decode()
    assert EN_TRIAGED not in page.decode()


def test_written_in_korean_reads_in_english_on_an_english_page(client, world, triaged):
    client.force_login(world["teacher"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the page's language switch
    page = client.get(reverse("casework:notifications")).content
    assert EN_TRIAGED in page.decode()
    assert KO_TRIAGED not in page.decode()


def test_api_follows_accept_language(world, triaged):
    api = APIClient()
    api.force_authenticate(world["teacher"])
    url = reverse("api-notifications")
    (english,) = api.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    (korean,) = api.get(url, HTTP_ACCEPT_LANGUAGE="ko").json()["results"]
    assert english["title"] == EN_TRIAGED and korean["title"] == KO_TRIAGED
    assert set(english) == {"id", "kind", "title", "body", "url", "case", "created_at", "read_at"}
    read = api.post(reverse("api-notification-read", args=[triaged.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert read.json()["title"] == EN_TRIAGED


def test_code_params_show_their_label_and_free_text_stays_as_written(world):
    student = StudentFactory(school=world.school, name="김하늘")
    with translation.override("en"):
        case = intake.open_case(by=world["coordinator"], student=student, difficulties=["economic"])
        lifecycle.transition_case(case, by=world["coordinator"], to="reviewing", reason="협의 필요")
    row = Notification.objects.get(recipient=world["principal"], kind="case_status")
    assert row.params == {"name": "김하늘", "number": case.number, "status": "reviewing"}
    with translation.override("en"):
        assert row.display_title == f"김하늘 ({case.number}): Reviewing"
        assert row.display_body == "협의 필요"
    with translation.override("ko"):
        assert row.display_title == f"김하늘 학생({case.number}): 검토 중"


def test_body_templates_render_in_the_reader_language(world):
    (row,) = notify(
        [world["partner"]],
        kind="referral_received",
        params={
            "number": "2026-S0001-0001-R01",
            "variant": "escalation",
            "org": "이음초등학교",
            "date": "2026-12-04",
        },
    )
    with translation.override("en"):
        assert row.display_title == "An escalation has arrived: 2026-S0001-0001-R01"
        assert row.display_body == "From: 이음초등학교 · respond by: 2026-12-04"
    assert row.title == "교육지원청 요청이 도착했습니다: 2026-S0001-0001-R01"
    assert row.body == "보낸 기관: 이음초등학교 · 회신 기한: 2026-12-04"


def test_emails_go_out_in_korean_whoever_acted(world, triaged):
    mail.outbox.clear()
    with translation.override("en"):
        delivery.deliver([triaged.pk])
    (message,) = mail.outbox
    assert message.subject == f"[이음] {KO_TRIAGED}"
    assert "이음에서 자동으로 보냈습니다" in message.body


def test_daily_digest_is_in_korean(world, triaged):
    mail.outbox.clear()
    with translation.override("en"):
        tasks.send_daily_digest.apply().get()
    (digest,) = [m for m in mail.outbox if m.to == [world["teacher"].email]]
    assert digest.subject == "[이음] 읽지 않은 알림 1건"
    assert f"· {KO_TRIAGED}" in digest.body


def test_rows_without_params_show_their_stored_text(client, world):
    old = Notification.objects.create(
        recipient=world["teacher"], kind="case_opened", title="Case opened: 2025-S0001-0007"
    )
    assert old.params is None
    with translation.override("ko"):
        assert old.display_title == "Case opened: 2025-S0001-0007"
    client.force_login(world["teacher"])
    page = client.get(reverse("casework:notifications"))
    assert "Case opened: 2025-S0001-0007" in page.content.decode()
    delivery.deliver([old.pk])
    assert mail.outbox[-1].subject == "[이음] Case opened: 2025-S0001-0007"


def test_a_broken_translation_shows_the_stored_text(world):
    (row,) = notify(
        [world["teacher"]],
        kind="case_opened",
        params={"name": "김하늘", "number": "2026-S0001-0001"},
    )
    row.params = {}  # as if a placeholder had been renamed without migrating the rows
    assert row.display_title == "김하늘 학생(2026-S0001-0001) 사례 개설"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "no_such_kind"},
        {"kind": "case_opened", "params": {}},
        {"kind": "case_opened", "params": {"number": "1"}},
        {"kind": "case_opened", "params": {"number": "1", "student": "김하늘"}},
        {"kind": "case_opened", "params": {"number": ["1"]}},
        {"kind": "referral_overdue_sender", "params": {"days": 3, "number": "1", "org": "x"}},
    ],
)
def test_notify_takes_exactly_the_message_fields(world, kwargs):
    kwargs.setdefault("body", "free text" if kwargs["kind"] == "referral_overdue_sender" else "")
    with pytest.raises(ValueError):
        notify([world["teacher"]], **kwargs)
    assert not Notification.objects.exists()


def test_every_kind_renders_in_both_languages():
    for kind, message in MESSAGES.items():
        params = dict.fromkeys(message.fields(), "7")
        for name, choices in message.labels.items():
            params[name] = choices.values[0]
        for variant in [None, *message.variants]:
            if variant:
                params["variant"] = variant
            with translation.override("ko"):
                korean = message.render_title(params), message.render_body(params, "")
            with translation.override("en"):
                english = message.render_title(params), message.render_body(params, "")
            assert english != korean, f"{kind} reads the same in English and Korean"
