"""Hostile roster files: refused before they are parsed, with a message on the job, and jobs
whose worker is gone do not stay `running`."""

import io
import time
import zipfile
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from casework import imports
from casework.models import Job
from casework.tasks import fail_stale_jobs, import_roster
from casework.workflows.jobs import fail_stale_jobs as sweep
from tests.builders import ROSTER_HEADER, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

TITLES = ROSTER_HEADER.split(",")
ROW = ["4", "2", "1", "김하늘", "2016-03-05", "여", "N001", "김보호", "모", "010-1111-2222", ""]
TOO_BIG = "파일이 너무 큽니다"
# Refusing must not take the time parsing would: well under a second on any machine.
FAST = 3.0


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def row_xml(number: int, values) -> str:
    cells = "".join(cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def sheet_xml(rows: str, dimension: str = "A1:K2") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


def xlsx_with_sheet(sheet: bytes) -> bytes:
    """A real workbook (openpyxl's) whose first sheet is replaced by `sheet`."""
    source = xlsx_bytes(TITLES, ROW)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = sheet if item.filename == "xl/worksheets/sheet1.xml" else src.read(item)
            dst.writestr(item.filename, data, zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


@pytest.fixture
def run_import(world, django_capture_on_commit_callbacks):
    from casework.workflows.roster import start_roster_import

    def run(data, name="roster.xlsx"):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            job = start_roster_import(
                by=world["coordinator"],
                school=world.school,
                file_name=name,
                data=data,
                dry_run=True,
            )
        job.refresh_from_db()
        return job, time.monotonic() - started

    return run


def refused(job) -> str:
    assert job.status == Job.Status.FAILED, job.errors
    assert job.payload is None and job.finished_at is not None
    assert len(job.errors) == 1, job.errors
    error = job.errors[0]
    assert error["row"] is None and error["field"] == ""
    return error["message"]


def test_the_sane_file_still_imports(run_import):
    job, _ = run_import(xlsx_with_sheet(sheet_xml(row_xml(1, TITLES) + row_xml(2, ROW))))
    assert job.status == Job.Status.SUCCEEDED, job.errors


def test_a_zip_bomb_is_refused_before_parsing(run_import):
    # 30 MB of rows that deflate to a few dozen KB: an upload far under the 5 MB limit.
    filler = row_xml(3, ROW)[len('<row r="3">') : -len("</row>")]
    body = f"<row>{filler}</row>" * (30 * 1024 * 1024 // len(filler))
    data = xlsx_with_sheet(sheet_xml(row_xml(1, TITLES) + row_xml(2, ROW) + body))
    assert len(data) < 1024 * 1024
    job, elapsed = run_import(data)
    message = refused(job)
    assert TOO_BIG in message and "배" in message  # the compression ratio and its limit
    assert str(settings.ROSTER_IMPORT_MAX_COMPRESSION_RATIO) in message
    assert elapsed < FAST


def test_expanded_size_past_the_limit_is_refused(run_import, settings):
    settings.ROSTER_IMPORT_MAX_EXPANDED_BYTES = 4 * 1024
    job, _ = run_import(xlsx_with_sheet(sheet_xml(row_xml(1, TITLES) + row_xml(2, ROW))))
    message = refused(job)
    assert TOO_BIG in message and "4KB" in message.replace(" ", "")


@pytest.mark.parametrize("dimension", ["A1:K2000000000", "A1:XFD20000", "A1:ZZZ3", "A1:K1048576"])
def test_a_sheet_that_claims_huge_dimensions_is_refused(run_import, dimension):
    sheet = sheet_xml(row_xml(1, TITLES) + row_xml(2, ROW), dimension=dimension)
    job, elapsed = run_import(xlsx_with_sheet(sheet))
    assert TOO_BIG in refused(job)
    assert elapsed < FAST


def test_a_cell_at_row_two_billion_is_refused(run_import):
    far = f'<row r="2000000000">{cell("A2000000000", "x")}</row>'
    job, elapsed = run_import(xlsx_with_sheet(sheet_xml(row_xml(1, TITLES) + far, "A1:K2")))
    message = refused(job)
    assert TOO_BIG in message and f"{settings.ROSTER_IMPORT_MAX_SHEET_ROWS:,}" in message
    assert elapsed < FAST


def test_a_cell_far_to_the_right_is_refused(run_import):
    wide = f'<row r="2">{cell("XFD2", "x")}</row>'
    job, elapsed = run_import(xlsx_with_sheet(sheet_xml(row_xml(1, TITLES) + wide, "A1:K2")))
    assert TOO_BIG in refused(job)
    assert elapsed < FAST


@pytest.mark.parametrize("name", ["김&#0;하늘", "김\x00하늘"])
def test_a_nul_in_an_xlsx_cell_fails_the_job_with_a_message(run_import, name):
    # XML cannot hold a NUL, so the sheet cannot be read: the job says so, not "unexpected".
    named = ["4", "2", "1", name, *ROW[4:]]
    job, _ = run_import(xlsx_with_sheet(sheet_xml(row_xml(1, TITLES) + row_xml(2, named))))
    assert job.status == Job.Status.FAILED
    assert [e["row"] for e in job.errors] == [1]
    assert "NUL" in job.errors[0]["message"]


def test_a_nul_in_a_csv_cell_is_a_row_error(run_import):
    rows = ["4,2,1,김하늘,2016-03-05,여,N001,김\x00보호,모,010-1111-2222,"]
    job, _ = run_import(csv_bytes(rows), name="roster.csv")
    assert job.status == Job.Status.FAILED
    assert [(e["row"], e["field"]) for e in job.errors] == [(2, "보호자명")]


def test_an_overlong_cell_is_a_row_error(run_import):
    limit = settings.ROSTER_IMPORT_MAX_CELL_CHARS
    rows = [",".join([*ROW, "가" * (limit + 1)])]
    job, _ = run_import(csv_bytes(rows, header=ROSTER_HEADER + ",비고"), name="roster.csv")
    assert job.status == Job.Status.FAILED
    assert [(e["row"], e["field"]) for e in job.errors] == [(2, "비고")]
    assert f"{limit:,}" in job.errors[0]["message"]


def test_parse_refuses_without_opening_the_workbook(monkeypatch):
    """The checks come first: openpyxl is never asked to open the hostile file."""
    import openpyxl

    def never(*args, **kwargs):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    far = f'<row r="2000000000">{cell("A2000000000", "x")}</row>'
    parsed = imports.parse(xlsx_with_sheet(sheet_xml(far)), "roster.xlsx")
    assert TOO_BIG in parsed.errors[0]["message"]


# --- Jobs whose worker is gone -------------------------------------------------------------


def make_job(world, status, age: timedelta) -> Job:
    job = Job.objects.create(
        kind=Job.Kind.ROSTER_IMPORT,
        created_by=world["coordinator"],
        organization=world.school,
        status=status,
        payload=b"file",
    )
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - age)
    return job


def test_stale_jobs_are_failed_with_a_message(world):
    limit = timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    old_running = make_job(world, Job.Status.RUNNING, limit + timedelta(minutes=1))
    old_queued = make_job(world, Job.Status.QUEUED, limit + timedelta(minutes=1))
    fresh = make_job(world, Job.Status.RUNNING, timedelta(minutes=1))
    done = make_job(world, Job.Status.SUCCEEDED, limit * 3)
    assert fail_stale_jobs() == {"failed": 2, "requeued": 0}
    for job in (old_running, old_queued):
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert job.payload is None and job.finished_at is not None
        assert job.errors[0]["row"] is None and "다시 올려" in job.errors[0]["message"]
        assert job.history.first().status == Job.Status.FAILED
    fresh.refresh_from_db()
    done.refresh_from_db()
    assert fresh.status == Job.Status.RUNNING and done.status == Job.Status.SUCCEEDED
    assert sweep() == 0  # nothing left


def test_a_swept_job_is_not_run_later(world):
    limit = timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    job = make_job(world, Job.Status.QUEUED, limit * 2)
    sweep()
    assert import_roster(str(job.pk)) == "skipped"


def test_the_sweep_runs_on_a_schedule_and_the_import_has_a_time_limit():
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "casework.tasks.fail_stale_jobs" in schedule
    assert import_roster.time_limit and import_roster.soft_time_limit
    assert import_roster.time_limit < settings.JOB_STALE_AFTER_SECONDS
