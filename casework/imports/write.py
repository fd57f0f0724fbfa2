"""Writing a plan: one transaction, all or nothing, with history rows in bulk."""

from django.db import transaction

from casework.models import Guardian, Student
from core.bulk import copy_rows_with_history, update_rows_with_history
from partners.models import Organization, User

from .parse import Parsed, without_gc
from .plan import GUARDIAN_COLUMNS, STUDENT_COLUMNS, Plan, plan_import

CHANGE_REASON = "명부 가져오기"


@without_gc
def apply_import(parsed: Parsed, *, school: Organization, by: User) -> Plan:
    """Plan and write in one transaction; if the plan has errors nothing is written."""
    with transaction.atomic():
        # Two imports for one school at once would each see the other's students as missing
        # and create them twice; the school's row serialises them.
        list(Organization.objects.select_for_update().filter(pk=school.pk).values_list("pk"))
        plan = plan_import(parsed, school=school)
        if not plan.errors:
            write_plan(plan, by=by)
    return plan


def write_plan(plan: Plan, *, by: User) -> None:
    """Write the plan with its history rows: new rows go in by COPY and changed ones by one
    UPDATE per table, each followed by its history rows (core.bulk)."""
    history = {"by": by, "reason": CHANGE_REASON}
    if plan.new_students:
        copy_rows_with_history(Student, STUDENT_COLUMNS, plan.new_students, **history)
    if plan.changed_students:
        fields = sorted(plan.changed_fields)
        # None where this row leaves the field as it is.
        rows = [
            (pk, *(changes.get(name) for name in fields))
            for pk, changes in plan.changed_students.items()
        ]
        update_rows_with_history(Student, fields, rows, **history)
    if plan.new_guardians:
        copy_rows_with_history(Guardian, GUARDIAN_COLUMNS, plan.new_guardians, **history)
    if plan.changed_guardians:
        rows = list(plan.changed_guardians.items())
        update_rows_with_history(Guardian, ["phone"], rows, **history)
