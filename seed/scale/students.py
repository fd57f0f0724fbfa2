"""Students of the fictional schools, each with a guardian, as a roster import leaves them."""

import uuid
from datetime import date

from casework.models import Guardian, Student
from core.bulk import hist

from .base import Load
from .network import Network

# (student id, name, grade) of each school's students, by school id.
Pupils = dict[uuid.UUID, list[tuple[uuid.UUID, str, int]]]


def build_students(load: Load, net: Network) -> Pupils:
    """Students of every school with a guardian each; returns (id, name, grade) by school."""
    t = load.tier
    per_school = t.students // len(net.schools)
    students_by_school: Pupils = {}
    guardians = []

    def students():
        for school in net.schools:
            bucket = students_by_school.setdefault(school.pk, [])
            for k in range(per_school):
                sid = load.uid()
                grade = k % 6 + 1
                name = load.name()
                bucket.append((sid, name, grade))
                guardians.append(
                    {
                        "id": load.uid(),
                        "student_id": sid,
                        "name": load.name(),
                        "relation": load.rng.choice(["모", "부", "조모"]),
                        "phone": f"010-{load.rng.randint(1000, 9999)}-{load.rng.randint(1000, 9999)}",
                    }
                )
                yield {
                    "id": sid,
                    "school_id": school.pk,
                    "name": name,
                    "birth_date": date(
                        load.today.year - 7 - grade,
                        load.rng.randint(1, 12),
                        load.rng.randint(1, 28),
                    ),
                    "sex": "male" if k % 2 else "female",
                    "grade": grade,
                    "class_no": k // 30 % 10 + 1,
                    "number": k % 30 + 1,
                    "neis_id": f"N{school.code}{k:05d}",
                    "multicultural": load.rng.random() < 0.04,
                    "benefit_status": "basic_livelihood" if load.rng.random() < 0.05 else "",
                    "home_borough_id": net.borough_by_code[school.region_code].pk,
                }

    n = load.copier.copy(
        Student, students(), history=lambda r: [hist(load.at(400), reason="명부 가져오기")]
    )
    load.copier.copy(Guardian, guardians, history=lambda r: [hist(load.at(400))])
    load.progress(f"students: {n} with guardians")
    return students_by_school
