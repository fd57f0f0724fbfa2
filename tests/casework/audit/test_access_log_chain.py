"""The access log's keyed chain and its anchors outside the database (docs/operations.md).

A database superuser can write any row and any head: only the key (ACCESS_LOG_KEY, never in the
database) makes a row's hash, and only the anchors (ACCESS_LOG_ANCHORS) remember how long each
month's chain was."""

import json
import os
import socket
import subprocess
import sys
from hashlib import sha256
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from casework import audit, tasks
from casework.audit import GENESIS, content_digest, record_access, verify_chain
from casework.models import AccessChainHead, AccessEvent

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(settings, tmp_path) -> Path:
    path = tmp_path / "state" / "access-log-anchors.log"
    settings.ACCESS_LOG_ANCHORS = str(path)
    return path


def _tamper(sql, params=()):
    """Bypass the append-only trigger the way only a database superuser could."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE casework_accessevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE casework_accessevent ENABLE TRIGGER USER")


def _forge(world, case, partition=None, *, digest=None, head=True) -> AccessEvent:
    """A row appended by hand with the plain SHA-256 link the chain used before it was keyed,
    its month's head moved on as the application would."""
    partition = partition or timezone.localtime().strftime("%Y-%m")
    current = AccessChainHead.objects.filter(partition=partition).first()
    event = AccessEvent(
        occurred_at=timezone.now(),
        partition=partition,
        user=world["coordinator"],
        action="view",
        object_type="case",
        object_ids=[str(case.pk)],
        case=case,
        prev_hash=current.last_hash if current else GENESIS,
    )
    plain = sha256((event.prev_hash + content_digest(event)).encode()).hexdigest()
    event.hash = digest(event) if digest else plain
    event.save(force_insert=True)
    if head:
        AccessChainHead.objects.update_or_create(
            partition=partition,
            defaults={"last_hash": event.hash, "count": (current.count if current else 0) + 1},
        )
    return event


def _problems(**kwargs) -> list[str]:
    return [p.problem for p in verify_chain(**kwargs)[1]]


def _verify_fails() -> str:
    with pytest.raises(CommandError, match="chain broken") as failure:
        call_command("verify_access_log")
    assert failure.value.returncode != 0
    return str(failure.value)


def test_a_forged_row_with_a_plain_hash_is_detected(world, ungranted_case, events, store, capsys):
    forged = _forge(world, ungranted_case)
    checked, problems = verify_chain()
    assert checked == 4
    assert [(p.event_id, p.problem) for p in problems] == [(forged.id, "content altered")]
    _verify_fails()
    assert f"event {forged.id}: content altered" in capsys.readouterr().err


def test_a_row_chained_with_another_key_is_detected(world, ungranted_case, events, settings):
    key = settings.ACCESS_LOG_KEY
    settings.ACCESS_LOG_KEY = "a-key-the-deployment-does-not-hold-0123456789"
    forged = record_access(
        world["coordinator"], "view", "case", [ungranted_case], case=ungranted_case
    )
    settings.ACCESS_LOG_KEY = key
    assert [(p.event_id, p.problem) for p in verify_chain()[1]] == [(forged.id, "content altered")]


def test_the_link_is_keyed(events, settings):
    """Each hash is SHA-256 of the previous hash followed by the row's HMAC: without the key
    nobody computes the hash of a row, nor re-links one after a row removed before it."""
    import hmac

    key = settings.ACCESS_LOG_KEY.encode()
    for event in events:
        stored = AccessEvent.objects.get(pk=event.pk)
        content = json.dumps(audit.content(stored), sort_keys=True).encode()
        mac = hmac.new(key, content, "sha256").hexdigest()
        assert stored.hash == sha256((stored.prev_hash + mac).encode()).hexdigest()


def test_a_cut_tail_with_a_rewritten_head_is_detected_against_the_anchors(events, store, capsys):
    call_command("anchor_access_log")
    partition = events[0].partition
    _tamper("DELETE FROM casework_accessevent WHERE id = %s", [events[2].id])
    AccessChainHead.objects.filter(partition=partition).update(last_hash=events[1].hash, count=2)
    assert verify_chain(anchors=[]) == (2, [])  # the database alone cannot tell
    assert _problems() == ["rows missing: the anchor of this month counted 3 rows, 2 are left"]
    _verify_fails()
    assert f"{partition}: rows missing" in capsys.readouterr().err


def test_a_rewritten_tail_is_detected_against_the_anchors(world, ungranted_case, events, store):
    call_command("anchor_access_log")
    _tamper("DELETE FROM casework_accessevent WHERE id = %s", [events[2].id])
    AccessChainHead.objects.filter(partition=events[0].partition).update(
        last_hash=events[1].hash, count=2
    )
    # Back to 3 rows.
    record_access(world["coordinator"], "view", "case", [ungranted_case], case=ungranted_case)
    assert _problems() == ["rows rewritten: row 3 is not the one the anchor of this month counted"]


def test_truncating_both_tables_is_detected(events, store):
    call_command("anchor_access_log")
    _tamper("DELETE FROM casework_accessevent")
    AccessChainHead.objects.all().delete()
    assert verify_chain(anchors=[]) == (0, [])
    assert _problems() == ["all rows gone: the anchor of this month counted 3 rows"]
    _verify_fails()


def test_a_month_without_a_head_is_checked(world, ungranted_case, events):
    AccessChainHead.objects.all().delete()
    assert _problems() == ["rows without a chain head"]
    # An older month that never had a head: its rows are walked all the same.
    forged = _forge(world, ungranted_case, "2025-01", head=False)
    problems = [(p.partition, p.event_id, p.problem) for p in verify_chain()[1]]
    assert ("2025-01", forged.id, "rows hashed without ACCESS_LOG_KEY and not anchored") in problems
    assert ("2025-01", None, "rows without a chain head") in problems


def test_the_command_exits_non_zero(world, ungranted_case, events, store, capsys):
    call_command("verify_access_log")
    assert "access log chain intact: 3 rows" in capsys.readouterr().out
    _forge(world, ungranted_case)
    with pytest.raises(CommandError) as failure:
        call_command("verify_access_log")
    # manage.py exits with the error's return code (BaseCommand.run_from_argv).
    assert failure.value.returncode == 1


def test_anchoring_appends_and_skips_unchanged_months(world, ungranted_case, events, store):
    call_command("anchor_access_log")
    first = store.read_text()
    (line,) = first.splitlines()
    anchor = json.loads(line.split(audit.ANCHOR_MARK, 1)[1])
    assert anchor["month"] == events[0].partition
    assert (anchor["count"], anchor["digest"]) == (3, events[2].hash)
    call_command("anchor_access_log")  # the same day, nothing new: nothing written
    assert store.read_text() == first
    record_access(world["coordinator"], "view", "case", [ungranted_case], case=ungranted_case)
    call_command("anchor_access_log")
    text = store.read_text()
    assert text.startswith(first)  # appended, never rewritten
    assert [json.loads(x.split(audit.ANCHOR_MARK, 1)[1])["count"] for x in text.splitlines()] == [
        3,
        4,
    ]
    assert verify_chain() == (4, [])


def test_anchoring_refuses_a_broken_month(world, ungranted_case, events, store):
    _forge(world, ungranted_case)
    with pytest.raises(CommandError, match="not anchored"):
        call_command("anchor_access_log")
    assert not store.exists() or store.read_text() == ""


def test_months_hashed_before_the_key_are_sealed_once(world, ungranted_case, store):
    old = [_forge(world, ungranted_case, "2025-03"), _forge(world, ungranted_case, "2025-03")]
    assert _problems() == ["rows hashed without ACCESS_LOG_KEY and not anchored"]
    with pytest.raises(CommandError):
        call_command("anchor_access_log")
    call_command("anchor_access_log", "--seal-legacy")
    assert verify_chain() == (2, [])
    # After the seal, a row appended the old way is no longer vouched for.
    late = _forge(world, ungranted_case, "2025-03")
    assert [(p.event_id, p.problem) for p in verify_chain()[1]] == [
        (late.id, "rows hashed without ACCESS_LOG_KEY and not anchored")
    ]
    assert old[1].hash != late.hash


def test_an_expired_month_is_recorded_before_it_goes(world, ungranted_case, store):
    _forge(world, ungranted_case, "2023-01")
    call_command("anchor_access_log", "--seal-legacy")
    with pytest.raises(CommandError, match="kept"):
        call_command("anchor_access_log", "--expire", timezone.localtime().strftime("%Y-%m"))
    call_command("anchor_access_log", "--expire", "2023-01")
    _tamper("DELETE FROM casework_accessevent WHERE partition = %s", ["2023-01"])
    AccessChainHead.objects.filter(partition="2023-01").delete()
    assert verify_chain() == (0, [])


def test_the_daily_task_publishes_the_anchors(events, store):
    assert tasks.anchor_access_log.apply().get() == 1
    assert tasks.anchor_access_log.apply().get() == 0
    assert len(store.read_text().splitlines()) == 1


def test_the_beat_schedule_anchors_daily(settings):
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if "anchor" in e["task"]]
    assert [e["task"] for e in entries] == ["casework.tasks.anchor_access_log"]


def test_anchors_go_to_syslog_and_verify_reads_an_export(events, settings, tmp_path, capsys):
    path = str(tmp_path / "log.sock")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(path)
    receiver.settimeout(5)
    try:
        settings.ACCESS_LOG_ANCHORS = f"syslog:{path}"
        call_command("anchor_access_log")
        message = receiver.recv(4096).decode()
    finally:
        receiver.close()
    assert audit.ANCHOR_MARK in message and events[2].hash in message
    # syslog cannot be read back: the command says so, and compares with an export when given.
    call_command("verify_access_log")
    assert "not compared" in capsys.readouterr().out
    export = tmp_path / "export.log"
    export.write_text(f"May 14 23:50:01 web1 {message.lstrip('<0123456789>')}\n")
    call_command("verify_access_log", "--anchors", str(export))
    assert "1 anchor" in capsys.readouterr().out
    _tamper("DELETE FROM casework_accessevent WHERE id = %s", [events[2].id])
    AccessChainHead.objects.update(last_hash=events[1].hash, count=2)
    with pytest.raises(CommandError):
        call_command("verify_access_log", "--anchors", str(export))


def _manage(*args, **env):
    keep = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "ACCESS_LOG_KEY"}}
    keep.update(DJANGO_SETTINGS_MODULE="config.settings", SECRET_KEY="s" * 60, **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=keep,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_key_is_required_when_debug_is_off():
    result = _manage("check")
    assert result.returncode != 0
    assert "ACCESS_LOG_KEY must be set" in result.stderr
    short = _manage("check", ACCESS_LOG_KEY="short")
    assert short.returncode != 0 and "at least 32" in short.stderr
    assert _manage("check", ACCESS_LOG_KEY="k" * 40).returncode == 0
    assert _manage("check", DEBUG="1").returncode == 0  # the demo has a default
