"""The access log is append-only (PIPA safeguards; DESIGN.md §6): PostgreSQL rejects UPDATE and
DELETE on casework_accessevent. Expiry after two years drops whole monthly partitions instead.
TRUNCATE stays possible: like dropping an expired month's partition, it is an owner's operation,
and Django's test flush needs it; the chain head counts still reveal it (verify_access_log)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION casework_accessevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'casework_accessevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER casework_accessevent_append_only
    BEFORE UPDATE OR DELETE ON casework_accessevent
    FOR EACH ROW EXECUTE FUNCTION casework_accessevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS casework_accessevent_append_only ON casework_accessevent;
DROP FUNCTION IF EXISTS casework_accessevent_append_only();
"""


def install(apps, schema_editor):
    schema_editor.execute(CREATE, params=None)


def remove(apps, schema_editor):
    schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
