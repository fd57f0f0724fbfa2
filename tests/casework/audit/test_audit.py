"""The access log: one row per read, append-only, hash-chained per month."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from casework.audit import GENESIS, content_mac, legacy_digest, record_access, verify_chain
from casework.models import AccessChainHead, AccessEvent
from partners.models import Membership
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_events_chain_from_genesis(events):
    assert events[0].prev_hash == GENESIS
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert AccessChainHead.objects.get(partition=events[0].partition).count == 3
    assert verify_chain() == (3, [])


def test_event_records_the_membership_acted_in(world, events):
    assert events[0].membership.organization == world.school
    assert events[1].object_ids == [str(i) for i in events[1].object_ids]
    assert len(events[1].object_ids) == 2


def test_the_log_rejects_update_and_delete(events):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush deferred FK checks first
    for statement in (
        "UPDATE casework_accessevent SET reason = 'x'",
        "DELETE FROM casework_accessevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AccessEvent.objects.count() == 3


def _tamper(sql, params):
    """Bypass the trigger the way only a database superuser could, to prove detection."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE casework_accessevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE casework_accessevent ENABLE TRIGGER USER")


def test_altered_row_is_detected(events):
    _tamper("UPDATE casework_accessevent SET reason = %s WHERE id = %s", ["edited", events[1].id])
    checked, problems = verify_chain()
    assert checked == 3
    assert [(p.event_id, p.problem) for p in problems] == [(events[1].id, "content altered")]


def test_deleted_row_is_detected(events):
    _tamper("DELETE FROM casework_accessevent WHERE id = %s", [events[1].id])
    _checked, problems = verify_chain()
    assert (events[2].id, "link broken") in [(p.event_id, p.problem) for p in problems]


def test_deleted_tail_is_detected(events):
    _tamper("DELETE FROM casework_accessevent WHERE id = %s", [events[2].id])
    _checked, problems = verify_chain()
    assert [p.problem for p in problems] == ["rows missing at the end"]


def test_verify_command(events, capsys):
    call_command("verify_access_log")
    assert "intact: 3 rows" in capsys.readouterr().out
    _tamper("UPDATE casework_accessevent SET path = %s WHERE id = %s", ["/x", events[0].id])
    with pytest.raises(CommandError, match="chain broken"):
        call_command("verify_access_log")


def test_an_event_links_its_content_to_the_previous_hash(events):
    from hashlib import sha256

    for event in events:
        stored = AccessEvent.objects.get(pk=event.pk)
        assert stored.hash == event.hash
        assert event.hash == sha256((event.prev_hash + content_mac(stored)).encode()).hexdigest()


def test_an_append_is_one_statement(world, django_assert_num_queries):
    case = CaseFactory(owner=world.school, lead=world.school)
    membership = Membership.objects.filter(user=world["coordinator"]).first()
    first = record_access(world["coordinator"], "view", "case", [case], case=case)
    with django_assert_num_queries(1):
        second = record_access(
            world["coordinator"], "view", "case", [case], case=case, membership=membership
        )
    assert second.prev_hash == first.hash and second.id > first.id
    assert AccessChainHead.objects.get(partition=second.partition).last_hash == second.hash
    assert verify_chain() == (2, [])


def _append_legacy(world, case) -> AccessEvent:
    """A row hashed the way rows were before the head computed the link."""
    now = timezone.now()
    partition = timezone.localtime(now).strftime("%Y-%m")
    head, _created = AccessChainHead.objects.get_or_create(
        partition=partition, defaults={"last_hash": GENESIS}
    )
    event = AccessEvent(
        occurred_at=now,
        partition=partition,
        user=world["coordinator"],
        action="view",
        object_type="case",
        object_ids=[str(case.pk)],
        case=case,
        prev_hash=head.last_hash,
    )
    event.hash = legacy_digest(event)
    event.save(force_insert=True)
    AccessChainHead.objects.filter(partition=partition).update(
        last_hash=event.hash, count=head.count + 1
    )
    return event


def test_rows_hashed_the_legacy_way_still_verify(world):
    case = CaseFactory(owner=world.school, lead=world.school)
    old = [_append_legacy(world, case), _append_legacy(world, case)]
    new = record_access(world["coordinator"], "view", "case", [case], case=case)
    assert new.prev_hash == old[1].hash
    assert verify_chain() == (3, [])
    # Once a month's rows are hashed the current way, a legacy hash is no longer accepted.
    late = _append_legacy(world, case)
    _checked, problems = verify_chain()
    assert [(p.event_id, p.problem) for p in problems] == [(late.id, "content altered")]


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain(world):
    case = CaseFactory(owner=world.school, lead=world.school)
    membership = Membership.objects.filter(user=world["coordinator"]).first()
    record_access(world["coordinator"], "view", "case", [case], case=case)

    def append(n):
        try:
            for _ in range(n):
                record_access(
                    world["coordinator"], "view", "case", [case], case=case, membership=membership
                )
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(append, [20] * 4))
    assert verify_chain() == (81, [])
