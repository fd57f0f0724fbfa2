"""Times read the Korean way, the half of the day first ("오전 9:30", never "9:30 오전"), on the pages
and in any template that prints a date with its time (config/formats/ko)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from casework.models import Note
from casework.workflows import records

SEOUL = ZoneInfo("Asia/Seoul")


def test_the_case_page_puts_the_half_of_the_day_before_the_time(client, world, opened_case):
    kind = Note.Kind.choices[0][0]
    for hour, minute in ((9, 30), (16, 5)):
        records.add_note(
            opened_case,
            by=world["coordinator"],
            kind=kind,
            body=f"{hour}시 상담",
            occurred_at=datetime(2026, 11, 30, hour, minute, tzinfo=SEOUL),
        )
    client.force_login(world["coordinator"])
    page = client.get(reverse("casework:case_detail", args=[opened_case.pk])).content.decode()
    assert "2026년 11월 30일 오전 9:30" in page
    assert "2026년 11월 30일 오후 4:05" in page
    assert "9:30 오전" not in page and "4:05 오후" not in page


def test_every_template_formats_times_the_same_way():
    at = datetime(2026, 12, 2, 9, 30, tzinfo=SEOUL)
    template = Template('{{ at|date:"DATETIME_FORMAT" }} / {{ at|time:"TIME_FORMAT" }}')
    with translation.override("ko"):
        assert template.render(Context({"at": at})) == "2026년 12월 2일 오전 9:30 / 오전 9:30"
    with translation.override("en"):
        assert template.render(Context({"at": at})) == "Dec. 2, 2026, 9:30 a.m. / 9:30 a.m."
