"""The case timeline in the reader's words: a sentence per entry, labelled changes, code labels,
dates in the reader's format, people by name, never a field name, a code or an id."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import override

from casework import audit
from casework.models import Case
from casework.workflows import intake, lifecycle, records, team
from tests.factories import ReferralFactory, StudentFactory

pytestmark = pytest.mark.django_db
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def reviewed_case(world):
    """A case put under review, its risk level, review date and difficulties changed."""
    case = intake.open_case(
        by=world["coordinator"],
        student=StudentFactory(school=world.school),
        difficulties=["economic"],
    )
    case = lifecycle.transition_case(
        case, by=world["coordinator"], to="reviewing", reason="면담 필요"
    )
    case = records.update_case(
        case,
        by=world["coordinator"],
        version=case.version,
        reason="보호자 상담 뒤 조정",
        risk_level="crisis",
        review_due_on=date(2027, 1, 15),
        difficulties=["economic", "psychological"],
    )
    return case


def entry_with(entries, label):
    return next(e for e in entries if any(line["label"] == label for line in e.lines))


def line(entry, label):
    return next(x for x in entry.lines if x["label"] == label)


def test_changes_read_as_labelled_korean_lines(world):
    case = reviewed_case(world)
    entries = audit.case_timeline(case, include_access=False)
    changed = entry_with(entries, "위기 수준")
    assert changed.sentence == "사례 정보를 바꿨습니다."
    assert changed.user_name == world["coordinator"].name
    assert changed.reason == "보호자 상담 뒤 조정"
    assert line(changed, "위기 수준")["new"] == "위기"
    assert line(changed, "점검 예정일")["new"] == "2027년 1월 15일"
    assert line(changed, "어려움 유형") == {
        "label": "어려움 유형",
        "old": "경제적 어려움",
        "new": "경제적 어려움、심리·정서",
    }
    status = entry_with(entries, "상태")
    assert status.sentence == "사례 상태를 바꿨습니다."
    assert line(status, "상태")["old"] == "발굴" and line(status, "상태")["new"] == "검토 중"
    assert status.reason == "면담 필요"
    assert entries[-1].sentence == "사례를 열었습니다." and entries[-1].lines == []
    words = " ".join(f"{e.sentence} {e.lines}" for e in entries)
    for raw in ("review_due_on", "risk_level", "reviewing", "crisis", "+00:00"):
        assert raw not in words
    assert not UUID.search(words)


def test_empty_values_read_none_and_people_read_by_name(world):
    case = reviewed_case(world)
    case = Case.objects.get(pk=case.pk)
    case.coordinator = world["counselor"]
    case.review_due_on = None
    case.save()
    entries = audit.case_timeline(case, include_access=False)
    newest = entries[0]
    assert line(newest, "점검 예정일") == {
        "label": "점검 예정일",
        "old": "2027년 1월 15일",
        "new": "없음",
    }
    assert line(newest, "담당자") == {
        "label": "담당자",
        "old": world["coordinator"].name,
        "new": world["counselor"].name,
    }


def test_team_and_referral_entries_name_roles_organisations_and_statuses(world):
    case = reviewed_case(world)
    team.add_team_member(case, by=world["coordinator"], user=world["counselor"], role="counsellor")
    referral = ReferralFactory(case=case, to_organization=world.partner_org)
    referral.status = "sent"
    referral.save()
    entries = audit.case_timeline(case, include_access=False)
    sentences = [e.sentence for e in entries]
    name = world["counselor"].name
    assert f"사례 팀에 {name} 님을 추가했습니다 (상담교사)." in sentences
    team.remove_team_member(case, by=world["coordinator"], user=world["counselor"])
    entries = audit.case_timeline(case, include_access=False)
    assert f"사례 팀에서 {name} 님을 뺐습니다 (상담교사)." in [e.sentence for e in entries]
    sent = next(e for e in entries if e.kind == "referral")
    assert sent.sentence == f"서비스 의뢰: {world.partner_org.name}에 보냈습니다."
    assert "sent" not in " ".join(sentences) and "draft" not in " ".join(sentences)


def test_english_readers_read_english_labels(world):
    case = reviewed_case(world)
    with override("en"):
        entries = audit.case_timeline(case, include_access=False)
        changed = entry_with(entries, str(Case._meta.get_field("risk_level").verbose_name))
        label = str(Case._meta.get_field("risk_level").verbose_name)
        assert label != "위기 수준"
        assert line(changed, label)["new"] == str(dict(Case.risk_level.field.choices)["crisis"])
        assert line(changed, str(Case._meta.get_field("review_due_on").verbose_name))["new"] == (
            "Jan. 15, 2027"
        )


def test_the_names_of_a_page_cost_one_query(world):
    case = reviewed_case(world)
    plain = audit.Timeline(case, include_access=False)[:50]
    with CaptureQueriesContext(connection) as captured:
        audit.timeline.describe(plain)
    assert len(captured) == 1  # the school taking part is named
    for username in ("counselor", "coordinator", "counselor"):
        case = Case.objects.get(pk=case.pk)
        case.coordinator = world[username]
        case.save()
    named = audit.Timeline(case, include_access=False)[:50]
    with CaptureQueriesContext(connection) as captured:
        audit.timeline.describe(named)
    assert len(captured) == 1
    assert [line(e, "담당자")["new"] for e in named[:3]] == [
        world["counselor"].name,
        world["coordinator"].name,
        world["counselor"].name,
    ]


def test_case_page_history_reads_as_sentences(world, client):
    case = reviewed_case(world)
    client.force_login(world["coordinator"])
    url = reverse("casework:case_timeline", args=[case.pk])
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "점검 예정일: 없음 → 2027년 1월 15일" in page
    assert "위기 수준: 관심 → 위기" in page
    assert "사유: 보호자 상담 뒤 조정" in page
    assert "review_due_on" not in page and "reviewing" not in page
