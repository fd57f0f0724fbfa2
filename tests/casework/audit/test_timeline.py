"""The case timeline: history, referral events and reads in one chronology, paged in SQL
(DESIGN.md §6), with the same entries in the same order on every page."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casework import audit
from casework.api.serializers import TimelineEntrySerializer
from casework.models import AccessEvent, Case, Referral
from casework.workflows import intake, records
from tests.builders import approved_plan, consent_both, select_case
from tests.factories import ReferralFactory, StudentFactory

pytestmark = pytest.mark.django_db


def read(world, case, n):
    for _ in range(n):
        audit.record_access(world["coordinator"], "view", "case", [case], case=case)


def busy_case(world, *, reads=5, notes=1):
    """A case with every kind of entry: field changes (dates, datetimes, lists, foreign keys),
    saves that change nothing visible, referral events and reads, some at the same instant."""
    student = StudentFactory(school=world.school)
    case = intake.open_case(by=world["coordinator"], student=student, difficulties=["economic"])
    case = select_case(world, case)
    consent_both(world, case)
    approved_plan(world, case)
    for i in range(notes):
        records.add_note(case, by=world["coordinator"], kind="call", body=f"기록 {i}")
    referral = ReferralFactory(case=case, to_organization=world.partner_org)
    referral.status = "sent"
    referral.save()
    referral.save()  # a referral event even though nothing changed
    Case.objects.get(pk=case.pk).save()  # only updated_at moves: not shown
    case.refresh_from_db()
    case.risk_level = "crisis"
    case.review_due_on = timezone.localdate() + timedelta(days=10)
    case.save()
    same_instant = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=same_instant):
        read(world, case, 2)
        referral.save()
        records.add_note(case, by=world["coordinator"], kind="home_visit", body="같은 시각")
    read(world, case, reads)
    return case


def test_pages_continue_where_the_previous_one_stopped(world):
    case = busy_case(world, reads=12)
    timeline = audit.Timeline(case)
    whole = timeline[: timeline.count() + 10]
    assert len(whole) == timeline.count()
    assert whole == sorted(whole, key=lambda e: e.at, reverse=True)
    pages = [audit.Timeline(case)[start : start + 7] for start in range(0, len(whole), 7)]
    assert [entry for page in pages for entry in page] == whole
    assert {e.kind for e in whole} == {"history", "referral", "access"}
    assert audit.Timeline(case)[len(whole) : len(whole) + 7] == []
    assert audit.Timeline(case)[3] == whole[3]


def test_unchanged_saves_are_left_out_of_pages_and_count(world):
    case = busy_case(world, reads=0)
    before = audit.Timeline(case, include_access=False).count()
    Case.objects.get(pk=case.pk).save()
    Case.objects.get(pk=case.pk).save()
    timeline = audit.Timeline(case, include_access=False)
    assert timeline.count() == before
    entries = timeline[:100]
    assert len(entries) == before
    changed = [e for e in entries if e.detail.get("action") == "changed"]
    assert changed and all(e.detail["changes"] for e in changed)
    risk = next(e for e in entries if e.detail.get("source") == "case" and e.detail["changes"])
    assert {"field": "risk_level", "old": "watch", "new": "crisis"} in risk.detail["changes"]
    assert {c["field"] for c in risk.detail["changes"]} == {"risk_level", "review_due_on"}
    # Referral rows are events: each save shows, changed or not.
    referral = Referral.objects.get(case=case)
    assert len([e for e in entries if e.kind == "referral"]) == referral.history.count()


def test_same_instant_entries_keep_one_order(world):
    case = busy_case(world, reads=0)
    entries = audit.Timeline(case)[:100]
    at = max(e.at for e in entries if e.kind == "access")
    tied = [e.kind for e in entries if e.at == at]
    assert tied == ["history", "referral", "access", "access"]
    assert entries == audit.Timeline(case)[:100]


def test_every_slice_is_the_same_part_of_the_whole(world):
    case = busy_case(world, reads=9, notes=3)
    for include_access in (True, False):
        timeline = audit.Timeline(case, include_access=include_access)
        whole = audit.Timeline(case, include_access=include_access)[:1000]
        assert timeline.count() == len(whole)
        for start, stop in ((0, 5), (4, 11), (0, 200), (len(whole) - 3, len(whole) + 3)):
            part = audit.Timeline(case, include_access=include_access)[start:stop]
            assert part == whole[start:stop], (include_access, start, stop)
    datetimes = [
        c for e in audit.Timeline(case)[:200] for c in e.detail.get("changes", ()) if c["new"]
    ]
    assert any(c["field"] == "approved_at" for c in datetimes)


def test_api_pages_are_slices_of_the_timeline(world):
    case = busy_case(world, reads=10)
    client = APIClient()
    client.force_authenticate(world["coordinator"])
    url = f"/api/v1/cases/{case.pk}/timeline/"
    for page in (1, 2, 3):
        reads = AccessEvent.objects.filter(case=case).count()
        body = client.get(url, {"page": page, "page_size": 7}).json()
        # The request logs its own read first, so it is the newest entry of the timeline.
        assert AccessEvent.objects.filter(case=case).count() == reads + 1
        timeline = audit.Timeline(case)
        assert body["count"] == timeline.count()
        expected = TimelineEntrySerializer(timeline[(page - 1) * 7 : page * 7], many=True).data
        assert body["results"] == [dict(e) for e in expected]
        assert (body["previous"] is None) == (page == 1)
        assert body["next"] is not None
    first = client.get(url).json()
    assert first["results"][0]["kind"] == "access"
    assert len(first["results"]) == min(50, first["count"])
    past_the_end = client.get(url, {"page": 99})
    assert past_the_end.status_code == 400  # the request is wrong: the range is in the answer
    assert "page" in past_the_end.json()


def test_case_page_section_shows_the_newest_fifty_without_reads(world):
    case = busy_case(world, reads=3, notes=60)
    client = APIClient()
    client.force_login(world["coordinator"])
    answer = client.get(reverse("casework:case_timeline", args=[case.pk]), HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    shown = answer.context["timeline"]
    assert len(shown) == 50
    assert shown == audit.Timeline(case, include_access=False)[:50]
    assert "access" not in {e.kind for e in shown}


def queries(client, path):
    client.get(path)  # the session's first renewal is not the steady state
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_timeline_queries_do_not_grow_with_the_case(world, django_assert_max_num_queries):
    budget = 12
    small, large = busy_case(world, reads=2, notes=1), busy_case(world, reads=80, notes=30)
    client = APIClient()
    client.force_login(world["coordinator"])
    for path in (
        "/api/v1/cases/{}/timeline/",
        "/api/v1/cases/{}/timeline/?page=2&page_size=5",
        reverse("casework:case_timeline", args=["00000000-0000-0000-0000-000000000000"]),
    ):
        counts = []
        for case in (small, large):
            url = path.replace("00000000-0000-0000-0000-000000000000", "{}").format(case.pk)
            counts.append(queries(client, url))
            with django_assert_max_num_queries(budget, info=url):
                client.get(url)
        assert counts[0] == counts[1], (path, counts)
