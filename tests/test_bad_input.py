"""Bad input answers 400 with a message (or is ignored), never 500.

The routes come from the URL conf through the isolation matrix's table (tests/access/matrix.py),
filled with the same objects (the `school_objects` fixture): every GET route gets hostile query
strings, every API write an empty and a hostile body, every page form hostile values.
Then the cases the issue lists, one by one.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.access.matrix import ROUTE_KEYS, build_path, entry_for

HUGE = "99999999999999999999"
ROLES = ("coordinator", "casemanager", "partner")

# Query strings every GET route must survive, one parameter at a time...
SINGLE = (
    "q=%00&status=%00",
    "%00=1",
    f"page={HUGE}",
    "page=abc",
    "page=0",
    f"page_size={HUGE}",
    "grade=abc",
)
# ...and every filter name the views read, all at once with one hostile value.
NAMES = (
    "school",
    "case",
    "student",
    "grade",
    "class_no",
    "kind",
    "box",
    "status",
    "risk_level",
    "difficulty",
    "mine",
    "unread",
    "overdue",
    "ordering",
    "domain",
    "borough",
    "covers",
    "format",
    "reason",
    "dry_run",
    "plan",
    "since",
    "until",
)
VALUES = ("%00", "abc", HUGE, "-1", "2026-13-45")
COMBINED = tuple("&".join(f"{name}={value}" for name in NAMES) for value in VALUES)

GET_KEYS = [
    key
    for key in ROUTE_KEYS
    if entry_for(key).method == "get"
    and not key.startswith("admin")
    and key not in ("health", "api-schema", "api-docs")  # static: no parameters read
]
WRITE_KEYS = [
    key
    for key in ROUTE_KEYS
    if entry_for(key).method != "get"
    and not key.startswith("admin")
    and key not in ("logout", "set_language")
]

HOSTILE_BODY = {
    "reason": "\x00",
    "note": "\x00",
    "outcome": "\x00",
    "to": "\x00",
    "version": "abc",
    "plan": "notuuid",
    "intervention": "notuuid",
    "user": "notuuid",
    "user_id": "notuuid",
    "assignee": "notuuid",
    "school": "notuuid",
    "student": "notuuid",
    "occurred_on": "2026-13-45",
    "given_on": "2026-13-45",
    "starts_on": "x",
    "review_on": "x",
    "duration_minutes": "abc",
    "neis_id": "\x00",
    "birth_date": "x",
    "decision": "\x00",
}


def with_query(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


def client_for(world, role: str) -> APIClient:
    client = APIClient()
    client.force_login(world[role])
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("key", GET_KEYS)
def test_get_route_survives_hostile_queries(school_objects, key):
    world = school_objects
    path = build_path(key, entry_for(key), world)
    wrong = []
    for role in ROLES:
        client = client_for(world, role)
        for query in SINGLE + COMBINED:
            url = with_query(path, query)
            response = client.get(url)
            if response.status_code >= 500:
                wrong.append(f"{role} {url}: {response.status_code}")
            elif "%00" in query and response.status_code != 400:
                wrong.append(f"{role} {url}: {response.status_code} (a NUL is refused)")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("key", WRITE_KEYS)
def test_write_route_survives_empty_and_hostile_bodies(school_objects, key):
    world = school_objects
    route = entry_for(key)
    path = build_path(key, route, world)
    wrong = []
    for role in ("coordinator", "casemanager", "partner"):
        for body, fmt in [({}, "json"), (HOSTILE_BODY, "json"), (HOSTILE_BODY, None)]:
            client = client_for(world, role)
            response = getattr(client, route.method)(path, data=body, format=fmt)
            if response.status_code >= 500:
                wrong.append(f"{role} {route.method.upper()} {path} {fmt}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


CASE_ACTIONS = (
    "transition",
    "note",
    "consent",
    "plan",
    "plan_submit",
    "intervention",
    "log",
    "team_add",
    "team_remove",
    "assessment",
)


@pytest.mark.django_db
@pytest.mark.parametrize("action", CASE_ACTIONS)
def test_case_page_actions_survive_malformed_values(school_objects, action):
    world = school_objects
    client = client_for(world, "coordinator")
    path = f"/casework/cases/{world.case.pk}/do/{action}/"
    bodies = [
        HOSTILE_BODY,
        {**HOSTILE_BODY, "plan": str(world.plan.pk), "intervention": str(world.intervention.pk)},
        {
            "plan": str(world.plan.pk),
            "intervention": str(world.intervention.pk),
            "version": HUGE,
            "occurred_on": "2026-02-30",
            "duration_minutes": HUGE,
        },
    ]
    for body in bodies:
        response = client.post(path, body)
        assert response.status_code < 500, (body, response.status_code)


# --- The cases of the issue, one by one ------------------------------------------------------


def api(world, role="coordinator", language=None) -> APIClient:
    client = client_for(world, role)
    if language:
        client.credentials(HTTP_ACCEPT_LANGUAGE=language)
    return client


def message_of(response) -> str:
    return str(response.json())


@pytest.mark.django_db
def test_api_students_grade_abc_is_400_in_korean_and_english(world):
    response = api(world).get("/api/v1/students/?grade=abc")
    assert response.status_code == 400
    assert "grade" in response.json()
    assert "학년" in message_of(response) or "숫자" in message_of(response)
    english = api(world, language="en").get("/api/v1/students/?grade=abc")
    assert english.status_code == 400
    assert "number" in message_of(english)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/students/",
        "/api/v1/cases/",
        "/api/v1/concerns/",
        "/api/v1/referrals/",
        "/api/v1/organizations/",
        "/api/v1/services/",
        "/api/v1/services/hsds/",
    ],
)
def test_api_search_with_nul_is_400(world, path):
    response = api(world).get(f"{path}?q=%00")
    assert response.status_code == 400
    assert "허용되지 않는 문자" in message_of(response)
    english = api(world, language="en").get(f"{path}?q=%00")
    assert english.status_code == 400
    assert "character" in message_of(english)


@pytest.mark.django_db
@pytest.mark.parametrize("page", [HUGE, "9223372036854775808", "abc", "0", "-3"])
@pytest.mark.parametrize("path", ["/api/v1/organizations/", "/api/v1/students/", "/api/v1/cases/"])
def test_api_page_out_of_range_is_400(world, path, page):
    response = api(world).get(f"{path}?page={page}")
    assert response.status_code == 400, response.content
    assert "page" in response.json()
    assert "페이지" in message_of(response)


@pytest.mark.django_db
def test_api_page_just_past_the_end_is_400_too(world):
    response = api(world).get("/api/v1/organizations/?page=2")
    assert response.status_code == 400
    assert "페이지" in message_of(response)


@pytest.mark.django_db
def test_hsds_borough_nul_is_400(world):
    response = api(world).get("/api/v1/services/hsds/?borough=%00")
    assert response.status_code == 400


@pytest.mark.django_db
def test_plan_without_goals_is_400(school_objects):
    world = school_objects
    today = timezone.localdate()
    response = api(world).post(
        f"/api/v1/cases/{world.case.pk}/plans/",
        {"starts_on": str(today), "review_on": str(today + timedelta(days=30))},
        format="json",
    )
    assert response.status_code == 400
    assert "goals" in response.json()


@pytest.mark.django_db
def test_consent_without_purposes_is_400(school_objects):
    world = school_objects
    response = api(world).post(
        f"/api/v1/cases/{world.case.pk}/consents/",
        {"subject": "guardian", "method": "written", "given_on": str(timezone.localdate())},
        format="json",
    )
    assert response.status_code == 400
    assert "purposes" in response.json()


@pytest.mark.django_db
def test_json_body_with_nul_is_400(school_objects):
    world = school_objects
    response = api(world).post(
        f"/api/v1/cases/{world.case.pk}/notes/",
        {"body": "a\x00b", "kind": "general"},
        format="json",
    )
    assert response.status_code == 400
    assert "허용되지 않는 문자" in message_of(response)


def page_of(world, role="coordinator"):
    client = client_for(world, role)
    return client


@pytest.mark.django_db
def test_case_list_page_with_nul_is_a_400_page(world):
    response = page_of(world).get("/casework/cases/?q=%00&status=%00")
    assert response.status_code == 400
    text = response.content.decode()
    assert "허용되지 않는 문자" in text
    assert "krds-" in text  # the site's own page, not a bare error


@pytest.mark.django_db
def test_student_list_page_grade_abc_is_not_500(world):
    response = page_of(world).get("/casework/students/?grade=abc")
    assert response.status_code == 400
    assert "학년" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/casework/cases/", "/casework/students/", "/casework/concerns/", "/directory/"]
)
def test_page_lists_with_huge_page_show_the_last_page(world, path):
    response = page_of(world).get(f"{path}?page={HUGE}")
    assert response.status_code == 200


@pytest.mark.django_db
def test_case_new_with_malformed_student_is_400(world):
    response = page_of(world).get("/casework/cases/new/?student=notuuid")
    assert response.status_code == 400
    assert "krds-" in response.content.decode()


@pytest.mark.django_db
def test_case_page_log_with_malformed_date_or_number_is_400(school_objects):
    world = school_objects
    client = page_of(world)
    path = f"/casework/cases/{world.case.pk}/do/log/"
    base = {"intervention": str(world.intervention.pk), "note": "상담"}
    bad_date = client.post(path, {**base, "occurred_on": "2026-13-45", "duration_minutes": "30"})
    assert bad_date.status_code == 400
    assert "날짜" in bad_date.content.decode()
    bad_number = client.post(path, {**base, "occurred_on": "2026-03-02", "duration_minutes": "x"})
    assert bad_number.status_code == 400
    assert "숫자" in bad_number.content.decode()


@pytest.mark.django_db
def test_case_page_plan_submit_with_malformed_version_is_not_500(school_objects):
    world = school_objects
    response = page_of(world).post(
        f"/casework/cases/{world.case.pk}/do/plan_submit/",
        {"plan": str(world.plan.pk), "version": "abc"},
    )
    assert response.status_code in (302, 400)


@pytest.mark.django_db
def test_form_post_with_nul_is_400(school_objects):
    world = school_objects
    response = page_of(world).post(
        f"/casework/cases/{world.case.pk}/do/note/", {"body": "a\x00b", "kind": "general"}
    )
    assert response.status_code == 400
