"""Fixtures of the export tests: 정다온's case with a team note and a restricted note, API and
page clients by demo username, and an export asked for and made (Celery runs eagerly here, on
commit)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from casework.models import Job, Note
from casework.workflows import exports, records

REASON = "12월 4일 사례 회의 자료"


@pytest.fixture
def api(world):
    def client_of(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(world[username])
        return client

    return client_of


@pytest.fixture
def web(world):
    def client_of(username: str) -> Client:
        client = Client()
        client.force_login(world[username])
        return client

    return client_of


@pytest.fixture
def noted_case(world, opened_case):
    """정다온's case with a team note and a restricted counselling note."""
    records.add_note(opened_case, by=world["coordinator"], kind="observation", body="수업 중 졸음")
    records.add_note(
        opened_case,
        by=world["coordinator"],
        kind="counselling",
        body="비공개 상담 내용",
        confidentiality=Note.Confidentiality.RESTRICTED,
    )
    return opened_case


@pytest.fixture
def made(world, django_capture_on_commit_callbacks):
    """Ask for an export as `username` and let the job make it; the job, read again."""

    def make(username: str, kind: str, params=None, reason: str = REASON) -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            job = exports.request_export(
                by=world[username], kind=kind, params=params or {}, reason=reason
            )
        job.refresh_from_db()
        return job

    return make
