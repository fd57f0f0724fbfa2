"""Hostile JSON bodies answer 400 with a JSON error on every API route, never 500: deep
nesting, lone surrogates, bodies that are not objects, values of the wrong type, and bodies and
texts past the documented limits (docs/api.md "Limits")."""

import json

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from casework import instruments
from tests.access.matrix import ROUTE_KEYS, build_path, entry_for

FIELDS = (
    "reason", "note", "body", "kind", "status", "to", "version", "plan", "intervention",
    "user", "assignee", "school", "student", "case", "subject", "method", "purposes",
    "recipients", "given_on", "instrument", "answers", "decision", "difficulties", "domains",
    "goals", "attendees", "guests", "events", "url", "params", "format", "username", "password",
    "claim", "outcome", "requested_domains", "shared_fields", "role", "risk_level",
)  # fmt: skip
SURROGATE = "\\ud800"


def object_with(value: str) -> str:
    return "{" + ",".join(f'"{name}": {value}' for name in FIELDS) + "}"


BODIES = {
    "deep list": "[" * 100_000,
    "deep object": '{"a":' * 50_000,
    "deep inside": '{"body": ' + "[" * 100_000,
    "null": "null",
    "number": "5",
    "true": "true",
    "list": "[]",
    "string": '"x"',
    "surrogate values": object_with(f'"{SURROGATE}"'),
    "surrogate key": '{"' + SURROGATE + '": 1}',
    "lists": object_with("[1, true, null]"),
    "numbers": object_with("5"),
    "booleans": object_with("true"),
    "objects": object_with('{"a": [1]}'),
    "NaN": object_with("NaN"),
    "Infinity": '{"version": Infinity}',
    "huge number": object_with("1" * 4000),
    "not JSON": "{'a': 1",
    "not UTF-8": b'{"body": "\xff\xfe"}',
}

# Every API route, each with the method the matrix names and, for a route it reads with GET,
# the writes it may also take (a list that takes POST, a detail that takes PATCH).
API_KEYS = [
    key for key in ROUTE_KEYS if key.startswith("api-") and key not in ("api-schema", "api-docs")
]


def methods_of(key: str) -> list[str]:
    method = entry_for(key).method
    return ["post", "patch", "put"] if method == "get" else [method]


def post_raw(client, method, path, body):
    data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    return getattr(client, method)(path, data=data, content_type="application/json")


def check(response, label, wrong):
    if response.status_code >= 500:
        wrong.append(f"{label}: {response.status_code}")
    elif response.status_code == 400 and "json" not in response.get("Content-Type", ""):
        wrong.append(f"{label}: 400 without a JSON body")


def test_every_write_route_is_walked():
    assert len(API_KEYS) > 30, API_KEYS


@pytest.mark.django_db
@pytest.mark.parametrize("key", API_KEYS)
def test_api_write_route_answers_hostile_json_with_400(school_objects, key):
    world = school_objects
    route = entry_for(key)
    path = build_path(key, route, world)
    client = APIClient()
    client.force_login(world["coordinator"])
    wrong = []
    for method in methods_of(key):
        for label, body in BODIES.items():
            response = post_raw(client, method, path, body)
            check(response, f"{method.upper()} {path} {label}", wrong)
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("label", list(BODIES))
def test_token_endpoint_answers_hostile_json_with_400(label):
    response = post_raw(APIClient(), "post", "/api/v1/auth/token/", BODIES[label])
    # A number where the username belongs reads as a wrong username: 401 like any other.
    expected = (400, 401) if label == "numbers" else (400,)
    assert response.status_code in expected, response.content[:200]
    assert "json" in response["Content-Type"]


@pytest.mark.django_db
def test_deep_nesting_names_the_problem(world):
    response = post_raw(APIClient(), "post", "/api/v1/auth/token/", "[" * 100_000)
    assert response.status_code == 400
    assert "중첩" in response.json()["detail"]


@pytest.mark.django_db
def test_a_lone_surrogate_as_a_choice_is_400(school_objects):
    world = school_objects
    client = APIClient()
    client.force_login(world["coordinator"])
    body = '{"to": "' + SURROGATE + '", "reason": "x"}'
    response = post_raw(client, "post", f"/api/v1/cases/{world.case.pk}/transition/", body)
    assert response.status_code == 400
    assert "서로게이트" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("purposes", ["5", "true", '"sharing"', '{"a": 1}', "[1, 2]"])
def test_consent_purposes_of_the_wrong_type_are_400(school_objects, purposes):
    world = school_objects
    client = APIClient()
    client.force_login(world["coordinator"])
    body = (
        '{"subject": "student", "method": "written", "given_on": "2026-03-02", '
        f'"purposes": {purposes}, "recipients": {purposes}}}'
    )
    response = post_raw(client, "post", f"/api/v1/cases/{world.case.pk}/consents/", body)
    assert response.status_code == 400, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("instrument", ['["phq"]', '{"a": 1}', "5", "true"])
def test_an_instrument_of_the_wrong_type_is_400(school_objects, instrument):
    world = school_objects
    client = APIClient()
    client.force_login(world["coordinator"])
    body = f'{{"instrument": {instrument}, "answers": {{}}}}'
    response = post_raw(client, "post", f"/api/v1/cases/{world.case.pk}/assessments/", body)
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("code", [["a"], {"a": 1}, 5, None])
@pytest.mark.parametrize("answers", [{}, ["a"], 5, None])
def test_instruments_score_refuses_wrong_types(code, answers):
    with pytest.raises(ValidationError):
        instruments.score(code, answers)


def test_instruments_score_refuses_answers_of_the_wrong_type():
    code, definition = next(iter(instruments.instruments().items()))
    codes = [item["code"] for item in instruments.items(definition)]
    for value in ([1], {"a": 1}, True, 1.5, "x"):
        with pytest.raises(ValidationError):
            instruments.score(code, dict.fromkeys(codes, value))


@pytest.mark.django_db
def test_a_two_megabyte_note_is_refused(school_objects):
    world = school_objects
    client = APIClient()
    client.force_login(world["coordinator"])
    path = f"/api/v1/cases/{world.case.pk}/notes/"
    huge = json.dumps({"body": "가" * (2 * 1024 * 1024 // 3), "kind": "observation"})
    response = post_raw(client, "post", path, huge)
    assert response.status_code in (400, 413), response.status_code
    assert "json" in response["Content-Type"]
    limit = settings.API_MAX_TEXT_CHARS
    over = json.dumps({"body": "가" * (limit + 1), "kind": "observation"}, ensure_ascii=False)
    response = post_raw(client, "post", path, over)
    assert response.status_code == 400
    assert f"{limit:,}" in str(response.json())
    fits = json.dumps({"body": "가" * limit, "kind": "observation"}, ensure_ascii=False)
    assert post_raw(client, "post", path, fits).status_code == 201


@pytest.mark.django_db
def test_a_list_past_the_limit_is_refused(school_objects):
    world = school_objects
    client = APIClient()
    client.force_login(world["coordinator"])
    items = ["x"] * (settings.API_MAX_LIST_ITEMS + 1)
    body = json.dumps({"subject": "student", "purposes": items})
    response = post_raw(client, "post", f"/api/v1/cases/{world.case.pk}/consents/", body)
    assert response.status_code == 400
    assert f"{settings.API_MAX_LIST_ITEMS:,}" in str(response.json())


@pytest.mark.django_db
def test_a_body_past_the_content_length_limit_is_refused_unread(world):
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    response = APIClient().generic(
        "POST", "/api/v1/auth/token/", b"{" + b" " * (size - 2) + b"}", "application/json"
    )
    assert response.status_code == 413
    assert "요청이 너무 큽니다" in response.json()["detail"]
