"""The access log is partitioned by month (migration 0013): each month its own table, made ahead
by the daily job, and dropped whole — with its expiry anchored outside the database and a
destruction record — once past ACCESS_LOG_YEARS. Rows are never deleted one by one."""

import datetime
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from casework.audit import partitions, record_access, verify_chain
from casework.models import AccessChainHead, AccessEvent, DestructionRecord

pytestmark = pytest.mark.django_db
KST = datetime.timezone(datetime.timedelta(hours=9))


@pytest.fixture
def store(settings, tmp_path):
    settings.ACCESS_LOG_ANCHORS = str(tmp_path / "anchors.log")
    return tmp_path / "anchors.log"


def read_at(when, world, case):
    with mock.patch("django.utils.timezone.now", return_value=when):
        return record_access(world["coordinator"], "view", "case", [case], case=case)


def table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def test_the_log_is_a_table_partitioned_by_month():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = %s::regclass",
            [AccessEvent._meta.db_table],
        )
        assert cursor.fetchone() == ("l",)
    this_month = timezone.localdate().strftime("%Y-%m")
    assert this_month in partitions.months()


def test_the_daily_job_makes_the_months_ahead():
    today = timezone.localdate()
    later = today + datetime.timedelta(days=200)
    result = partitions.maintain(later)
    wanted = {partitions.month_of(later, shift) for shift in range(3)}
    assert wanted <= set(partitions.months())
    assert set(result.created) <= wanted and result.created
    assert partitions.maintain(later).created == []  # once


def test_a_read_of_a_month_without_its_table_makes_it(world, ungranted_case):
    event = read_at(datetime.datetime(2025, 3, 10, 10, 0, tzinfo=KST), world, ungranted_case)
    assert event.partition == "2025-03"
    assert partitions.months()["2025-03"] == "casework_accessevent_p2025_03"
    assert AccessEvent.objects.get(pk=event.pk).partition == "2025-03"


def test_rows_are_still_never_updated_or_deleted(world, ungranted_case, events):
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=events[0].pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {partitions.partition_table(events[0].partition)} SET reason = 'x'")


def test_ids_stay_unique_across_months(world, ungranted_case):
    old = read_at(datetime.datetime(2025, 1, 5, 9, 0, tzinfo=KST), world, ungranted_case)
    new = record_access(world["coordinator"], "view", "case", [ungranted_case])
    assert new.id > old.id
    assert AccessEvent.objects.filter(pk__in=[old.id, new.id]).count() == 2


def test_a_month_past_the_keeping_period_is_dropped_whole(world, ungranted_case, store, settings):
    today = datetime.date(2027, 12, 15)
    expired = [
        read_at(datetime.datetime(2025, 10, d, 10, 0, tzinfo=KST), world, ungranted_case)
        for d in (1, 2, 3)
    ]
    kept = read_at(datetime.datetime(2025, 12, 1, 10, 0, tzinfo=KST), world, ungranted_case)
    assert partitions.expired_months(today) == ["2025-10"]

    result = partitions.maintain(today)

    assert result.dropped == ["2025-10"]
    assert not table_exists("casework_accessevent_p2025_10")
    assert not AccessEvent.objects.filter(pk__in=[e.pk for e in expired]).exists()
    assert AccessEvent.objects.filter(pk=kept.pk).exists()  # the last month still kept
    assert not AccessChainHead.objects.filter(partition="2025-10").exists()
    record = DestructionRecord.objects.get(rule=DestructionRecord.Rule.ACCESS_LOG_EXPIRY)
    assert record.object_type == "access_log_month"
    assert record.object_label == "2025-10 (3)"
    assert record.due_on == datetime.date(2027, 10, 1)
    assert '"expired": true' in store.read_text() and "2025-10" in store.read_text()
    # What is left still verifies: the dropped month is an expiry, not a truncation.
    assert [p for p in verify_chain()[1] if p.partition == "2025-10"] == []
    assert partitions.maintain(today).dropped == []


def test_a_month_within_the_keeping_period_is_never_dropped(world, ungranted_case, store):
    read_at(datetime.datetime(2025, 12, 1, 10, 0, tzinfo=KST), world, ungranted_case)
    with pytest.raises(ValueError):
        partitions.drop_month("2025-12", datetime.date(2027, 12, 15))
    assert table_exists("casework_accessevent_p2025_12")


def test_rows_written_around_the_job_land_in_the_default_table_and_are_reported(
    world, ungranted_case
):
    AccessEvent.objects.create(
        occurred_at=datetime.datetime(2024, 6, 1, tzinfo=KST),
        partition="2024-06",
        user=world["coordinator"],
        action="view",
        object_type="case",
        prev_hash="0" * 64,
        hash="0" * 64,
    )
    assert partitions.stranded() == {"2024-06": 1}
    assert "2024-06" in partitions.maintain().stranded
