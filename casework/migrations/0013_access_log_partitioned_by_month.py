"""The access log becomes a table partitioned by month (DESIGN.md §6, §9): `partition` (YYYY-MM)
is the list key, each month its own table (and a default one for rows of a month whose table
is missing), so expiry after ACCESS_LOG_YEARS drops a whole month
(`casework.audit.partitions`) instead of deleting rows, which the append-only trigger refuses.

The rows, indexes (same names), foreign keys and the append-only trigger move over as they
are; the primary key becomes (id, partition), since a partitioned table's unique keys must
hold the partition key, and ids keep coming from one sequence, so they stay unique. Django's
model is unchanged: `id` is still what it looks rows up by.
"""

import re

from django.db import migrations

TABLE = "casework_accessevent"
OLD = "casework_accessevent_unpartitioned"
MONTH = re.compile(r"^\d{4}-\d{2}$")


def partition_table(month: str) -> str:
    if not MONTH.match(month):
        raise ValueError(f"not a month: {month!r}")
    return f"{TABLE}_p{month.replace('-', '_')}"


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
            [TABLE, f"{TABLE}_pkey"],
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [TABLE],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(f"SELECT DISTINCT partition FROM {TABLE}")
        months = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT to_char(now() AT TIME ZONE 'Asia/Seoul', 'YYYY-MM')")
        this_month = cursor.fetchone()[0]
        year, number = (int(p) for p in this_month.split("-"))
        for ahead in range(3):  # this month and the next two, created ahead
            y, m = divmod(year * 12 + number - 1 + ahead, 12)
            months.add(f"{y:04d}-{m + 1:02d}")

        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        cursor.execute(f"ALTER INDEX {TABLE}_pkey RENAME TO {OLD}_pkey")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS) PARTITION BY LIST (partition)"
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, partition)"
        )
        for month in sorted(months):
            cursor.execute(
                f"CREATE TABLE {partition_table(month)} PARTITION OF {TABLE} "
                f"FOR VALUES IN ('{month}')"
            )
        # Rows of a month whose table is missing (written before the daily job created it)
        # land here rather than being refused: a read is never lost for want of a table.
        cursor.execute(f"CREATE TABLE {TABLE}_pdefault PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {OLD}")
        last_id = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {OLD}")  # its identity sequence, trigger and indexes go too

        cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        cursor.execute(f"SELECT setval('{TABLE}_id_seq', %s, %s)", [max(last_id, 1), last_id > 0])
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
        for definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
        cursor.execute(
            f"CREATE TRIGGER casework_accessevent_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION casework_accessevent_append_only()"
        )


class Migration(migrations.Migration):
    atomic = True
    dependencies = [("casework", "0012_oversight")]

    operations = [migrations.RunPython(forward, elidable=False)]
