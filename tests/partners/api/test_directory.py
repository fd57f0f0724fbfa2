"""/me, the organisation and service directories, HSDS export, schema, docs and health."""

import pytest
from rest_framework.test import APIClient

from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(world):
    client = APIClient()
    client.force_login(world["coordinator"])
    return client


@pytest.fixture
def services(world):
    youth = ServiceFactory(
        organization=world.partner_org, name="청소년 개인상담", domains=["counselling"]
    )
    youth.boroughs.add(world.borough)
    mental = ServiceFactory(
        organization=world.other_partner_org, name="정신건강 사례관리", domains=["health"]
    )
    mental.boroughs.add(world.borough)
    ServiceFactory(name="다른 지역 학습", domains=["learning"])
    return youth, mental


def test_me_lists_memberships_with_approval(client, world):
    body = client.get("/api/v1/me/").json()
    assert body["name"] == world["coordinator"].name
    [membership] = body["memberships"]
    assert membership["organization"]["name"] == "이음초등학교"
    assert membership["role"] == "coordinator" and membership["approval_current"] is True
    assert membership["approval_expires_on"]


def test_organizations_filters(client, world):
    names = lambda r: {o["name"] for o in r.json()["results"]}  # noqa: E731
    assert names(client.get("/api/v1/organizations/?kind=district_office")) == {
        "서울특별시남부교육지원청",
        "서울특별시북부교육지원청",
    }
    covering = names(client.get("/api/v1/organizations/?covers=11545"))
    assert {"서울특별시남부교육지원청", "금천구청소년상담복지센터", "이음초등학교"} <= covering
    assert "서울특별시북부교육지원청" not in covering
    assert names(client.get("/api/v1/organizations/?q=한빛")) == {"한빛초등학교"}
    assert client.get("/api/v1/organizations/?kind=castle").status_code == 400
    detail = client.get(f"/api/v1/organizations/{world.nambu.pk}/").json()
    assert detail["covers"] == ["11545"]


def test_services_filters(client, services):
    names = lambda r: {s["name"] for s in r.json()["results"]}  # noqa: E731
    assert names(client.get("/api/v1/services/?domain=counselling")) == {"청소년 개인상담"}
    assert names(client.get("/api/v1/services/?borough=11545")) == {
        "청소년 개인상담",
        "정신건강 사례관리",
    }
    assert names(client.get("/api/v1/services/?q=정신")) == {"정신건강 사례관리"}
    response = client.get("/api/v1/services/?domain=magic")
    assert response.status_code == 400 and "domain" in response.json()


def test_pagination_caps_page_size(client):
    for i in range(3):
        ServiceFactory(name=f"서비스 {i}")
    body = client.get("/api/v1/services/?page_size=1000").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert client.get("/api/v1/services/?page_size=2").json()["next"]


def test_hsds_export(client, services):
    body = client.get("/api/v1/services/hsds/?borough=11545").json()
    assert body["hsds_version"] == "3.0"
    by_name = {s["name"]: s for s in body["services"]}
    youth = by_name["청소년 개인상담"]
    assert youth["organization"]["name"] == "금천구청소년상담복지센터"
    assert youth["service_areas"][0]["extent"] == "11545"
    assert youth["status"] == "active" and youth["x_ieum_domains"] == ["counselling"]


# Session lookup, user, count, rows, prefetches, and the session refresh that keeps the idle timer
# honest (SAVEPOINT, UPDATE, RELEASE): a fixed budget whatever the number of rows.
def test_list_queries_do_not_grow(client, world, django_assert_max_num_queries):
    for _i in range(3):
        ServiceFactory(organization=world.partner_org).boroughs.add(world.borough)
    with django_assert_max_num_queries(10):
        client.get("/api/v1/services/")
    with django_assert_max_num_queries(10):
        client.get("/api/v1/organizations/")
    for _i in range(20):
        ServiceFactory(organization=world.partner_org).boroughs.add(world.borough)
    with django_assert_max_num_queries(10):
        client.get("/api/v1/services/")
    with django_assert_max_num_queries(10):
        client.get("/api/v1/services/hsds/")
    with django_assert_max_num_queries(10):
        client.get("/api/v1/organizations/")


def test_directory_needs_authentication():
    assert APIClient().get("/api/v1/organizations/").status_code == 401


def test_schema_and_docs_are_public():
    assert APIClient().get("/api/schema/").status_code == 200
    docs = APIClient().get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_health(settings):
    body = APIClient().get("/health/").json()
    assert body == {"status": "ok", "database": "ok", "broker": "not_configured"}


def test_health_reports_an_unreachable_broker(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = APIClient().get("/health/")
    assert response.status_code == 503
    assert response.json()["broker"] == "error"
