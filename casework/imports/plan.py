"""Matching parsed rows against the school's roster: what an import would create or change,
without writing."""

import os
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from casework.models import Guardian, Student
from partners.models import Organization

from .parse import Parsed, RosterRow, without_gc

# The fields a re-import may change; name and birth date identify the student and stay.
UPDATABLE = ("grade", "class_no", "number", "sex", "neis_id", "home_borough")
# What plan_import produces for COPY: new students' and guardians' values in this order.
STUDENT_COLUMNS = (
    "id",
    "school_id",
    "name",
    "birth_date",
    "sex",
    "grade",
    "class_no",
    "number",
    "neis_id",
    "home_borough_id",
)
GUARDIAN_COLUMNS = ("id", "student_id", "name", "relation", "phone")


@dataclass
class Plan:
    """What applying the rows would do to the school's roster."""

    actions: dict[int, str] = field(default_factory=dict)  # row → create / update / unchanged
    new_students: list[tuple] = field(default_factory=list)  # STUDENT_COLUMNS values
    changed_students: dict = field(default_factory=dict)  # pk → {field name: new value}
    changed_fields: set[str] = field(default_factory=set)
    new_guardians: list[tuple] = field(default_factory=list)  # GUARDIAN_COLUMNS values
    changed_guardians: dict = field(default_factory=dict)  # pk → new phone number
    errors: list[dict] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        values = list(self.actions.values())
        return {
            "created": values.count("create"),
            "updated": values.count("update"),
            "unchanged": values.count("unchanged"),
        }


# A school's students as plan_import reads them: pk, name, birth date, NEIS id, then these.
STUDENT_COMPARED = ("grade", "class_no", "number", "sex", "home_borough_id")
PK, NAME, BIRTH_DATE, NEIS = range(4)
BOROUGH = 4 + STUDENT_COMPARED.index("home_borough_id")


def new_ids(n: int) -> list[str]:
    """n random (version 4) UUIDs as hex, from one urandom call: uuid4() per row costs about
    as much as the rest of the plan."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])
    text = raw.hex()
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]


def _id_source(block: int = 1024):
    while True:
        yield from new_ids(block)


@without_gc
def plan_import(parsed: Parsed, *, school: Organization) -> Plan:
    """Match valid rows against the school's roster: a student with the same NEIS id, else the
    same name and birth date (unless NEIS says they are someone else). Students missing from the
    file are left alone: an export may cover one grade or one class."""
    plan = Plan()
    # Tuples, not model instances: a school's roster is read whole on every import.
    existing = list(
        Student.objects.filter(school=school).values_list(
            "pk", "name", "birth_date", "neis_id", *STUDENT_COMPARED
        )
    )
    by_neis = {s[NEIS]: s for s in existing if s[NEIS]}
    by_person: dict[tuple, list[tuple]] = defaultdict(list)
    for student in existing:
        by_person[(student[NAME], student[BIRTH_DATE])].append(student)

    matched: dict[int, tuple] = {}
    claimed: dict = {}  # student pk → the row that matched it
    for row in parsed.rows:
        if row.neis_id in by_neis:
            matched[row.row] = by_neis[row.neis_id]
            claimed[matched[row.row][PK]] = row.row
    for row in parsed.rows:
        if row.row in matched:
            continue
        people = by_person.get((row.name, row.birth_date))
        if not people:
            continue
        candidates = [s for s in people if not (row.neis_id and s[NEIS] and s[NEIS] != row.neis_id)]
        if len(candidates) > 1:
            plan.errors.append(
                {
                    "row": row.row,
                    "field": parsed.columns["name"],
                    "message": str(
                        _(
                            "이름과 생년월일이 같은 학생이 명부에 여럿 있습니다. NEIS 식별번호를 넣어 주세요."
                        )
                    ),
                }
            )
        elif candidates and candidates[0][PK] in claimed:
            plan.errors.append(
                {
                    "row": row.row,
                    "field": parsed.columns["name"],
                    "message": str(
                        _("%d행과 같은 학생으로 확인됩니다. NEIS 식별번호를 확인해 주세요.")
                        % claimed[candidates[0][PK]]
                    ),
                }
            )
        elif candidates:
            matched[row.row] = candidates[0]
            claimed[candidates[0][PK]] = row.row

    # Only matched students have guardians on record; new ones are added below.
    known = Guardian.objects.filter(student_id__in=[s[PK] for s in matched.values()])
    guardians = {
        (student_id, name, relation): (pk, phone)
        for pk, student_id, name, relation, phone in (
            known.values_list("pk", "student_id", "name", "relation", "phone") if matched else ()
        )
    }
    ids = _id_source()
    school_id = str(school.pk)  # formatted once for COPY, not once per row
    for row in parsed.rows:
        student = matched.get(row.row)
        if student is None:
            student_id = next(ids)
            plan.new_students.append(
                (
                    student_id,
                    school_id,
                    row.name,
                    row.birth_date,
                    row.sex,
                    row.grade,
                    row.class_no,
                    row.number,
                    row.neis_id,
                    row.home_borough.pk if row.home_borough else None,
                )
            )
            plan.actions[row.row] = "create"
        else:
            student_id = student[PK]
            changed = _student_changes(student, row)
            if changed:
                plan.changed_students[student_id] = changed
                plan.changed_fields.update(changed)
            plan.actions[row.row] = "update" if changed else "unchanged"
        guardian_changed = row.guardian_name and _plan_guardian(
            plan, guardians, student_id, row, ids
        )
        if guardian_changed and plan.actions[row.row] == "unchanged":
            plan.actions[row.row] = "update"
    return plan


def _student_changes(student: tuple, row: RosterRow) -> dict:
    """The fields of a matched student that the row changes, by field name."""
    changed = {}
    for position, name in enumerate(("grade", "class_no", "number", "sex"), start=4):
        if student[position] != getattr(row, name):
            changed[name] = getattr(row, name)
    # A blank NEIS id or borough in the file keeps what is known: exports often leave them out.
    if row.neis_id and student[NEIS] != row.neis_id:
        changed["neis_id"] = row.neis_id
    if row.home_borough and student[BOROUGH] != row.home_borough.pk:
        changed["home_borough"] = row.home_borough.pk
    return changed


def _plan_guardian(plan: Plan, guardians: dict, student_id, row: RosterRow, ids) -> bool:
    """A guardian new to the student (by name and relation) is added; a known one gets the new
    phone number. True if anything changes."""
    current = guardians.get((student_id, row.guardian_name, row.guardian_relation))
    if current is None:
        plan.new_guardians.append(
            (
                next(ids),
                student_id,
                row.guardian_name,
                row.guardian_relation,
                row.guardian_phone,
            )
        )
        return True
    pk, phone = current
    if row.guardian_phone and phone != row.guardian_phone:
        plan.changed_guardians[pk] = row.guardian_phone
        return True
    return False
