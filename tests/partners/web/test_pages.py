"""Login, lockout, logout, the home page for every role, the directory and idle sessions."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.factories import PASSWORD, ServiceFactory

pytestmark = pytest.mark.django_db


def login(client, username, password=PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def test_anonymous_home_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_login_page_is_korean_even_for_an_english_browser(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    body = response.content.decode()
    assert response.status_code == 200 and 'lang="ko"' in body and "로그인" in body


def test_login_and_home(client, world):
    response = login(client, "coordinator")
    assert response.status_code == 302 and response["Location"] == "/"
    body = client.get("/").content.decode()
    assert "이음초등학교" in body and "학생맞춤통합지원 담당자" in body
    assert "기관·서비스 안내" in body


def test_wrong_password_keeps_username_and_says_why(client, world):
    body = login(client, "coordinator", "nope").content.decode()
    assert "아이디 또는 비밀번호가 올바르지 않습니다." in body
    assert 'value="coordinator"' in body


def test_five_failures_lock_the_account(client, world, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        login(client, "teacher", "nope")
    response = login(client, "teacher")
    assert response.status_code == 200
    assert "계정이 잠겼습니다" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("username", "org", "role"),
    [
        ("teacher", "이음초등학교", "교사"),
        ("coordinator", "이음초등학교", "학생맞춤통합지원 담당자"),
        ("casemanager", "서울특별시남부교육지원청", "사례관리자"),
        ("partner", "금천구청소년상담복지센터", "협력기관 담당자"),
        ("analyst", "서울특별시교육청", "통계 분석 담당자"),
        ("privacy", "서울특별시교육청", "개인정보 보호책임자"),
    ],
)
def test_home_shows_each_role_its_membership(client, world, username, org, role):
    client.force_login(world[username])
    body = client.get("/").content.decode()
    assert org in body and role in body and "유효" in body


def test_superuser_without_membership_is_told_so(client, world):
    client.force_login(world["admin"])
    body = client.get("/").content.decode()
    assert "소속된 기관이 없습니다" in body and "/admin/" in body


def test_expired_approval_is_flagged(client, world):
    membership = world["teacher"].memberships.get()
    membership.approval_expires_on = timezone.localdate() - timedelta(days=1)
    membership.save()
    client.force_login(world["teacher"])
    assert "승인 없음·만료" in client.get("/").content.decode()


def test_directory_filters_and_htmx_fragment(client, world):
    ServiceFactory(organization=world.partner_org, name="청소년 개인상담", domains=["counselling"])
    ServiceFactory(organization=world.other_partner_org, name="정신건강 평가", domains=["health"])
    client.force_login(world["coordinator"])
    fragment = client.get("/directory/?domain=counselling", HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body and "청소년 개인상담" in body and "정신건강 평가" not in body
    full = client.get("/directory/?kind=district_office").content.decode()
    assert "<html" in full and "서울특별시남부교육지원청" in full and "금천구청소년" not in full
    by_borough = client.get("/directory/?borough=11545", HTTP_HX_REQUEST="true").content.decode()
    assert "서울특별시남부교육지원청" in by_borough and "서울특별시북부교육지원청" not in by_borough
    by_name = client.get("/directory/?q=정신건강", HTTP_HX_REQUEST="true").content.decode()
    assert "금천구정신건강복지센터" in by_name and "금천구청소년상담복지센터" not in by_name


def test_home_and_directory_queries_do_not_grow(client, world, django_assert_max_num_queries):
    client.force_login(world["coordinator"])
    for _ in range(2):
        ServiceFactory(organization=world.partner_org)
    with django_assert_max_num_queries(14):
        client.get("/")
    for _ in range(20):
        ServiceFactory(organization=world.other_partner_org)
    with django_assert_max_num_queries(14):
        client.get("/")
    with django_assert_max_num_queries(14):
        client.get("/directory/", HTTP_HX_REQUEST="true")


def test_language_switch_to_english(client, world):
    client.force_login(world["coordinator"])
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    body = client.get("/").content.decode()
    assert 'lang="en"' in body and "Hello" in body


def test_logout_is_post_and_ends_the_session(client, world):
    client.force_login(world["coordinator"])
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_idle_session_expires_and_activity_renews_it(client, world, settings):
    client.force_login(world["coordinator"])
    key = client.session.session_key
    client.get("/")
    first = Session.objects.get(session_key=key).expire_date
    assert abs((first - timezone.now()).total_seconds() - settings.SESSION_COOKIE_AGE) < 60
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/").status_code == 302  # idle too long: back to the login page


def test_activity_renews_the_session_at_most_once_a_minute(client, world, settings):
    client.force_login(world["coordinator"])
    key = client.session.session_key
    client.get("/")
    renewed = Session.objects.get(session_key=key).expire_date
    Session.objects.filter(session_key=key).update(expire_date=renewed - timedelta(minutes=10))
    client.get("/")  # within the minute: no write
    assert Session.objects.get(session_key=key).expire_date == renewed - timedelta(minutes=10)
    session = client.session
    session["_renewed_at"] -= settings.SESSION_REFRESH_SECONDS
    session.save()
    client.get("/")  # a minute later: renewed
    later = Session.objects.get(session_key=key).expire_date
    assert abs((later - timezone.now()).total_seconds() - settings.SESSION_COOKIE_AGE) < 60
