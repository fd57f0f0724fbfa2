"""The reasons workflows record by themselves are stored in Korean, the catalogue's source
language, whoever acts, and read in the reader's language (casework/reasons.py)."""

import ast
import re
from pathlib import Path

import pytest
from django.utils.translation import override

from casework import audit, reasons
from casework.workflows import intake
from tests.factories import StudentFactory

ROOT = Path(__file__).resolve().parents[2]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# The calls whose reason ends up in a history row (casework/workflows/common.py and the
# workflows' own helpers), and where the reason sits among their positional arguments.
RECORDING = {"attribute": 2, "save": 2, "apply_transition": None, "_move": None, "_hand_over": None}
KEYWORDS = {"reason", "default_change_reason"}


def _bare(node) -> bool:
    """A reason written in place: a Korean literal (not marked for the catalogue) or an
    f-string (a sentence no catalogue can translate)."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BoolOp):
        return any(_bare(value) for value in node.values)
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and bool(HANGUL.search(node.value))
    )


def test_no_workflow_records_a_reason_the_reader_cannot_read():
    found = []
    sources = [*sorted((ROOT / "casework" / "workflows").glob("*.py"))]
    for path in [*sources, ROOT / "casework" / "notify" / "digest.py"]:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            assigned = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "_change_reason" for t in node.targets
            )
            if assigned and _bare(node.value):
                found.append(f"{path.name}:{node.lineno}")
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            arguments = [k.value for k in node.keywords if k.arg in KEYWORDS]
            position = RECORDING.get(name)
            if name in RECORDING and position is not None and len(node.args) > position:
                arguments.append(node.args[position])
            if name in RECORDING or arguments:
                found += [f"{path.name}:{node.lineno}" for a in arguments if _bare(a)]
    assert not found, found


def test_fixed_and_patterned_reasons_read_in_english():
    with override("en"):
        assert reasons.shown("사례 개설") == "Open a case"
        assert reasons.shown(reasons.patterned("triage", decision="attach")) == (
            "Review: Attach to an existing case"
        )
        assert reasons.shown(reasons.patterned("assignee", name="김민지")) == "Assignee: 김민지"
        assert reasons.shown("보호자가 전화로 요청") == "보호자가 전화로 요청"  # typed by a person
    with override("ko"):
        assert reasons.shown(reasons.patterned("triage", decision="attach")) == (
            "검토: 기존 사례에 연결"
        )


def test_a_date_in_a_reason_reads_in_the_readers_date_format():
    stored = reasons.patterned("consent_lapsed", date="2026-11-30")
    assert stored == "동의 만료로 취소: 만료일 2026-11-30"  # stored as data, ISO
    with override("ko"):
        assert reasons.shown(stored) == "동의 만료로 취소: 만료일 2026년 11월 30일"
    with override("en"):
        assert "2026-11-30" not in reasons.shown(stored)
        assert "2026" in reasons.shown(stored)


@pytest.mark.django_db
def test_an_english_speaking_actor_stores_korean_and_readers_read_their_own(world):
    with override("en"):
        case = intake.open_case(
            by=world["coordinator"],
            student=StudentFactory(school=world.school),
            difficulties=["psychological"],
        )
    assert set(case.history.values_list("history_change_reason", flat=True)) == {"사례 개설"}
    with override("en"):
        shown = {e.reason for e in audit.case_timeline(case, include_access=False)}
    assert "Open a case" in shown
    with override("ko"):
        shown = {e.reason for e in audit.case_timeline(case, include_access=False)}
    assert "사례 개설" in shown
