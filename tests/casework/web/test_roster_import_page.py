"""The roster import page: the rules before upload, a check first, then one button that saves the
checked file without a second upload."""

import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Job, Student
from casework.workflows import roster
from tests.builders import ROSTER_HEADER, as_user, csv_bytes

pytestmark = pytest.mark.django_db


def roster_file(data=None, name="명부.csv"):
    upload = io.BytesIO(csv_bytes() if data is None else data)
    upload.name = name
    return upload


def save_form(job):
    return f'action="{reverse("casework:job_save", args=[job.pk])}"'


@pytest.fixture
def post_file(client, world, django_capture_on_commit_callbacks):
    """Upload as the coordinator and let the job run after the commit, as in production."""
    as_user(client, world, "coordinator")

    def post(data=None, name="명부.csv", **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("casework:roster_import"), {"file": roster_file(data, name), **fields}
            )

    return post


@pytest.fixture
def save(client, django_capture_on_commit_callbacks):
    def save(job):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("casework:job_save", args=[job.pk]))

    return save


def test_the_page_states_the_rules_and_offers_an_unticked_check_box(client, world):
    as_user(client, world, "coordinator")
    page = client.get(reverse("casework:roster_import")).content.decode()
    for rule in ("UTF-8", "CP949", "XLSX", "5MB", "보호자명이 있으면 보호자관계도 적어야 합니다"):
        assert rule in page
    assert ROSTER_HEADER.split(",")[:6] == ["학년", "반", "번호", "성명", "생년월일", "성별"]
    for header in ROSTER_HEADER.split(",")[:6]:
        assert f'<th scope="row">{header}</th>' in page
    assert "먼저 검사만 합니다" in page
    box = re.search(r'<div class="krds-form-check">\s*<input type="checkbox"[^>]*>', page)
    assert box, "the check box is written in KRDS check markup"
    assert "checked" not in box.group(0) and "krds-input" not in box.group(0)


def test_a_check_then_one_button_saves_the_same_file(client, world, post_file, save):
    response = post_file()
    checked = Job.objects.get()
    assert response["Location"] == reverse("casework:job_detail", args=[checked.pk])
    assert checked.dry_run and checked.status == "succeeded" and not Student.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert '<th scope="col">' in page and "<thead>" in page and "김하늘" in page
    assert save_form(checked) in page

    saved_response = save(checked)
    saved = Job.objects.exclude(pk=checked.pk).get()
    assert saved_response["Location"] == reverse("casework:job_detail", args=[saved.pk])
    assert not saved.dry_run and saved.status == "succeeded", saved.errors
    assert Student.objects.filter(school=world.school).count() == 3
    checked.refresh_from_db()
    assert checked.result["saved_as"] == str(saved.pk)
    assert checked.payload is None and Job.objects.get(pk=saved.pk).payload is None
    assert "새 학생 3명" in client.get(saved_response["Location"]).content.decode()

    again = save(checked)
    assert again.status_code == 409 and "이미 저장했습니다" in again.content.decode()
    assert Job.objects.count() == 2 and Student.objects.count() == 3
    assert save_form(checked) not in again.content.decode()


def test_a_check_with_errors_cannot_be_saved(client, post_file, save):
    post_file(csv_bytes(["4,2,1,김하늘,2016-03-05,?,,,,,"]))
    checked = Job.objects.get()
    assert checked.status == "failed" and checked.payload is None
    page = client.get(reverse("casework:job_detail", args=[checked.pk])).content.decode()
    assert save_form(checked) not in page
    refused = save(checked)
    assert (
        refused.status_code == 409
        and "오류가 나온 파일은 저장할 수 없습니다" in refused.content.decode()
    )
    assert Job.objects.count() == 1 and not Student.objects.exists()


def test_only_the_uploader_saves_a_check(client, world, post_file, save):
    post_file()
    checked = Job.objects.get()
    as_user(client, world, "coordinator2")
    assert save(checked).status_code == 404
    assert Job.objects.count() == 1


def test_a_real_import_and_an_old_check_are_not_saved_again(world, post_file, save):
    post_file(save_now="on")
    direct = Job.objects.get()
    assert not direct.dry_run and Student.objects.count() == 3
    assert save(direct).status_code == 409

    post_file()
    checked = Job.objects.get(dry_run=True)
    assert roster.may_save_checked(checked)
    Job.objects.filter(pk=checked.pk).update(finished_at=timezone.now() - timedelta(days=2))
    refused = save(checked)
    assert refused.status_code == 409 and "하루 동안만" in refused.content.decode()
    assert roster.drop_expired_checked_files() == 1
    assert Job.objects.get(pk=checked.pk).payload is None


def test_a_refused_file_is_named_beside_the_field_and_the_choice_is_kept(post_file):
    response = post_file(b"not a roster", name="명부.txt", save_now="on")
    assert response.status_code == 400 and not Job.objects.exists()
    page = response.content.decode()
    error = re.search(r'<p class="form-hint-invalid"[^>]*>([^<]*)</p>', page)
    assert error and "CSV 또는 XLSX 파일만" in error.group(1)
    assert 'class="form-conts is-error"' in page and 'aria-invalid="true"' in page
    assert re.search(r'<input type="checkbox"[^>]*checked', page)


def test_a_running_job_polls_and_shows_its_progress(client, world):
    job = Job.objects.create(
        kind="roster_import",
        created_by=world["coordinator"],
        organization=world.school,
        file_name="명부.csv",
        status="running",
        total=400,
        processed=200,
    )
    as_user(client, world, "coordinator")
    page = client.get(reverse("casework:job_detail", args=[job.pk])).content.decode()
    assert f'hx-get="{reverse("casework:job_detail", args=[job.pk])}"' in page
    assert re.search(r'<progress[^>]*max="100" value="50"', page)
    assert 'role="status"' in page and "400행 중 200행" in page
