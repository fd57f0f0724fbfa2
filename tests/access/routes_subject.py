"""The isolation matrix's entries for subject access (PIPA 35조), merged into matrix.ROUTES:
the owner school's coordinator and the privacy officer above the school; anyone else is told
nothing (404), and only the privacy officer has the search."""

from tests.access.routes_base import Route

OWNER_AND_OFFICER = {"coordinator": 200, "privacy": 200}

ROUTES: dict[str, Route] = {
    "api-student-subject-access": Route(
        kwargs=lambda w: {"pk": w.case.student_id},
        query="?reason=matrix",
        expect={"anonymous": 401, **OWNER_AND_OFFICER, "*": 404},
    ),
    "casework:subject_access": Route(
        kwargs=lambda w: {"pk": w.case.student_id},
        expect={"anonymous": 302, **OWNER_AND_OFFICER, "*": 404},
    ),
    "casework:subject_search": Route(expect={"anonymous": 302, "privacy": 200, "*": 403}),
}
