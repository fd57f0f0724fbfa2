"""A read replica for reports (DESIGN.md §10; docs/performance.md: reports on a replica).

With `DATABASE_REPLICA_URL` set, settings add the database alias `replica` (a streaming replica
of the primary, read only). Only the aggregate reports read from it (`reports_database`): their
figures may lag the primary by the replica's delay, which a report can bear and casework
cannot. Everything else — every page, every workflow, every access check — reads and writes the
primary, which `PrimaryRouter` makes explicit, and migrations run on the primary only.
"""

from django.conf import settings

REPLICA = "replica"
PRIMARY = "default"


def reports_database() -> str:
    """The alias the reports read from: the replica where there is one, else the primary."""
    return REPLICA if REPLICA in settings.DATABASES else PRIMARY


class PrimaryRouter:
    """Every model on the primary; nothing migrates on the replica (it follows the primary)."""

    def db_for_read(self, model, **hints):
        return PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
