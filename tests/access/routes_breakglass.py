"""The isolation matrix's entries for the breakglass routes of oversight (merged into matrix.ROUTES).

Break-glass is the privacy officer's (above the case's school) and the centre head's (of the
school's district office; tested in tests/casework/oversight/). To anyone else the API answers
404 whether the case exists or not, even to the case's own coordinator: nothing tells who may
open what. The search page is a page of the menu, so it answers 403 to whoever has no such role.
An opening is ended only by its opener; anyone else's, or one that does not exist, is 404."""

import uuid

from tests.access.routes_base import Route

ROUTES: dict[str, Route] = {
    "api-case-break-glass": Route(
        method="post",
        kwargs=lambda w: {"pk": w.case.pk},
        data={"reason": "학생 안전 확인이 급함"},
        expect={"anonymous": 401, "privacy": 201, "*": 404},
    ),
    "casework:break_glass_search": Route(expect={"anonymous": 302, "privacy": 200, "*": 403}),
    "casework:break_glass_end": Route(
        method="post",
        kwargs=lambda w: {"pk": uuid.uuid4()},
        expect={"anonymous": 302, "*": 404},
        note="an opening of no one: not found for everyone",
    ),
}
