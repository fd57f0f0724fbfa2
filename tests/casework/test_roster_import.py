"""Roster imports: encodings and formats, row errors, all-or-nothing, re-imports, history."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook
from rest_framework.test import APIClient

from casework.models import Job, Student
from casework.workflows.roster import start_roster_import

pytestmark = pytest.mark.django_db
HEADER = "학년,반,번호,성명,생년월일,성별,학생개인번호,보호자명,보호자관계,보호자연락처,거주 자치구"
ROWS = [
    "4,2,1,김하늘,2016-03-05,여,N001,김보호,모,010-1111-2222,금천구",
    "4,2,2,이바다,2016.07.21,남,N002,이보호,부,010-3333-4444,11545",
    "5,1,3,박산,20150102,남자,,박보호,조모,,",
]


def csv_bytes(rows=ROWS, encoding="utf-8", header=HEADER):
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def run(world, data, name="roster.csv", dry_run=False, by="coordinator", capture=None):
    with capture(execute=True):
        job = start_roster_import(
            by=world[by], school=world.school, file_name=name, data=data, dry_run=dry_run
        )
    job.refresh_from_db()
    return job


def test_utf8_csv_creates_students_guardians_and_history(world, django_capture_on_commit_callbacks):
    job = run(world, csv_bytes(), capture=django_capture_on_commit_callbacks)
    assert job.status == "succeeded", job.errors
    assert job.result == {"created": 3, "updated": 0, "unchanged": 0}
    assert job.progress == 100 and job.payload is None
    haneul = Student.objects.get(name="김하늘")
    assert haneul.neis_id == "N001" and haneul.home_borough == world.borough
    assert haneul.guardians.get().phone == "010-1111-2222"
    record = haneul.history.get()
    assert record.history_user == world["coordinator"]
    assert record.history_change_reason == "명부 가져오기"


def test_cp949_csv_keeps_korean_names(world, django_capture_on_commit_callbacks):
    job = run(world, csv_bytes(encoding="cp949"), capture=django_capture_on_commit_callbacks)
    assert job.status == "succeeded", job.errors
    assert set(Student.objects.values_list("name", flat=True)) == {"김하늘", "이바다", "박산"}


def test_xlsx(world, django_capture_on_commit_callbacks):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append([4, 2, 1, "최별", "2016-04-01", "여", "X1", "", "", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    job = run(
        world, buffer.getvalue(), name="명부.xlsx", capture=django_capture_on_commit_callbacks
    )
    assert job.status == "succeeded", job.errors
    assert Student.objects.get().name == "최별"


def test_broken_rows_are_reported_and_nothing_is_written(world, django_capture_on_commit_callbacks):
    rows = [
        ROWS[0],
        "13,2,2,이바다,2016-07-21,남,N002,,,,",
        "4,2,3,,2016-07-21,여,N003,,,,",
        "4,2,4,정강,2016/13/40,남,N004,,,,",
        "4,2,5,한결,2016-05-05,?,N005,,,,",
    ]
    job = run(world, csv_bytes(rows), capture=django_capture_on_commit_callbacks)
    assert job.status == "failed"
    assert {(e["row"], e["field"]) for e in job.errors} == {
        (3, "학년"),
        (4, "성명"),
        (5, "생년월일"),
        (6, "성별"),
    }
    assert "1~12" in next(e["message"] for e in job.errors if e["row"] == 3)
    assert not Student.objects.exists()


def test_duplicate_rows_name_both_rows(world, django_capture_on_commit_callbacks):
    job = run(
        world, csv_bytes([ROWS[0], ROWS[1], ROWS[0]]), capture=django_capture_on_commit_callbacks
    )
    assert job.status == "failed"
    [error] = job.errors
    assert error["row"] == 4 and "2행" in error["message"]


def test_reimport_updates_instead_of_duplicating(world, django_capture_on_commit_callbacks):
    run(world, csv_bytes(), capture=django_capture_on_commit_callbacks)
    again = run(world, csv_bytes(), capture=django_capture_on_commit_callbacks)
    assert again.result == {"created": 0, "updated": 0, "unchanged": 3}
    moved = [ROWS[0].replace("4,2,1", "4,3,1"), *ROWS[1:]]
    changed = run(world, csv_bytes(moved), capture=django_capture_on_commit_callbacks)
    assert changed.result == {"created": 0, "updated": 1, "unchanged": 2}
    haneul = Student.objects.get(name="김하늘")
    assert haneul.class_no == 3 and Student.objects.count() == 3
    assert haneul.history.count() == 2


def test_dry_run_previews_and_writes_nothing(world, django_capture_on_commit_callbacks):
    job = run(world, csv_bytes(), dry_run=True, capture=django_capture_on_commit_callbacks)
    assert job.status == "succeeded" and job.result["rows"] == 3
    assert job.result["preview"][0]["name"] == "김하늘"
    assert not Student.objects.exists()


@pytest.mark.parametrize("username", ["teacher", "coordinator2", "principal"])
def test_only_the_schools_coordinator_imports(world, username):
    with pytest.raises(PermissionDenied):
        start_roster_import(
            by=world[username],
            school=world.school,
            file_name="r.csv",
            data=csv_bytes(),
            dry_run=True,
        )


def test_bad_files_are_refused(world, django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError):
        start_roster_import(
            by=world["coordinator"], school=world.school, file_name="r.pdf", data=b"x", dry_run=True
        )
    rrn = run(
        world,
        csv_bytes(["4,2,1,김하늘,2016-03-05,여,N001,,,,"], header=HEADER + ",주민등록번호"),
        capture=django_capture_on_commit_callbacks,
    )
    assert rrn.status == "failed" and "주민등록번호" in rrn.errors[0]["message"]
    hidden = run(
        world,
        csv_bytes(["4,2,1,김하늘,2016-03-05,여,160305-4123456,,,,"]),
        capture=django_capture_on_commit_callbacks,
    )
    assert hidden.status == "failed" and "주민등록번호" in hidden.errors[0]["message"]
    garbage = run(
        world, "\x00\xff\xfe".encode("latin-1") * 3, capture=django_capture_on_commit_callbacks
    )
    assert garbage.status == "failed"
    assert not Student.objects.exists()


# SQLite caps the parameters of one statement, so Django splits bulk inserts there by row count;
# the constant bound is a PostgreSQL property.
@pytest.mark.postgres
def test_large_import_uses_bounded_queries(
    world, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    def rows(n):
        return [
            f"{i % 6 + 1},{i % 9 + 1},{i % 30 + 1},학생{i},2015-01-{i % 28 + 1:02d},여,ID{i},보호{i},모,,"
            for i in range(n)
        ]

    with django_assert_max_num_queries(60):
        small = run(world, csv_bytes(rows(100)), capture=django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(60):
        large = run(world, csv_bytes(rows(1000)), capture=django_capture_on_commit_callbacks)
    assert small.status == large.status == "succeeded"
    assert Student.objects.count() == 1000


def test_api_upload_and_job(world, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(world["coordinator"])
    upload = io.BytesIO(csv_bytes())
    upload.name = "roster.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/students/import/?dry_run=1", {"file": upload}, format="multipart"
        )
    assert response.status_code == 202
    job = client.get(f"/api/v1/jobs/{response.json()['job']}/").json()
    assert job["status"] == "succeeded" and job["progress"] == 100 and job["errors"] == []
    other = APIClient()
    other.force_authenticate(world["coordinator2"])
    assert other.get(f"/api/v1/jobs/{response.json()['job']}/").status_code == 404
    assert Job.objects.get().payload is None
