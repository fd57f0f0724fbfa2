"""API authentication: hashed expiring bearer tokens, revocation, lockout shared with the login page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from partners.authentication import login_with_lockout
from partners.models import ApiToken, LoginThrottle
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"


def issue(client, username, password=PASSWORD, **extra):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", **extra
    )


def test_token_is_issued_hashed_and_expiring(world, settings):
    client = APIClient(enforce_csrf_checks=True)
    response = issue(client, "coordinator")
    assert response.status_code == 201
    key = response.json()["token"]
    stored = ApiToken.objects.get(user=world["coordinator"])
    assert stored.key_hash == ApiToken.hash_key(key) and key not in stored.key_hash
    expected = timezone.now() + timedelta(hours=settings.API_TOKEN_HOURS)
    assert abs((stored.expires_at - expected).total_seconds()) < 60

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["username"] == "coordinator"


def test_expired_and_revoked_tokens_are_refused(world):
    client = APIClient()
    key = issue(client, "teacher").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.delete(TOKEN_URL).status_code == 204
    assert client.get("/api/v1/me/").status_code == 401

    key = issue(APIClient(), "teacher").json()["token"]
    ApiToken.objects.filter(key_hash=ApiToken.hash_key(key)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/me/").status_code == 401


def test_wrong_password_is_401_in_korean_and_english(world):
    response = issue(APIClient(), "teacher", "wrong")
    assert response.status_code == 401
    assert "비밀번호" in response.json()["detail"]
    response = issue(APIClient(), "teacher", "wrong", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401 and "password" in response.json()["detail"].lower()


def test_unauthenticated_request_asks_for_bearer():
    response = APIClient().get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_session_auth_also_works(world):
    client = APIClient()
    client.force_login(world["partner"])
    assert client.get("/api/v1/me/").json()["username"] == "partner"


def test_five_failures_lock_even_the_right_password(world, settings):
    client = APIClient()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        issue(client, "teacher", "wrong")
    response = issue(client, "teacher")
    assert response.status_code == 429
    assert "잠겼습니다" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0


def test_lock_is_shared_with_the_login_page(world, rf, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        login_with_lockout(rf.post("/login/"), "teacher", "wrong")
    assert issue(APIClient(), "teacher", "wrong").status_code == 429
    assert login_with_lockout(rf.post("/login/"), "teacher", PASSWORD).locked


def test_lock_expires(world, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        issue(APIClient(), "teacher", "wrong")
    LoginThrottle.objects.filter(username="teacher").update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert issue(APIClient(), "teacher").status_code == 201
    assert not LoginThrottle.objects.filter(username="teacher").exists()


def test_unknown_usernames_lock_too(settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert issue(APIClient(), "nobody", "x").status_code in (401, 429)
    assert issue(APIClient(), "nobody", "x").status_code == 429


def test_inactive_user_gets_no_token(world):
    world["teacher"].is_active = False
    world["teacher"].save()
    assert issue(APIClient(), "teacher").status_code == 401
