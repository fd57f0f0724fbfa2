"""Roster imports: encodings and formats, row errors, all-or-nothing, re-imports, history."""

import uuid
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework import imports
from casework.models import Guardian, Job, Student
from casework.tasks import import_roster
from casework.workflows.roster import start_roster_import
from partners.models import Membership
from tests import factories
from tests.builders import ROSTER_HEADER, ROSTER_ROWS, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db
RRN_MESSAGE = "주민등록번호"


@pytest.fixture
def upload(world, django_capture_on_commit_callbacks):
    """Start an import as a user and run it the way production does: after the commit."""

    def run(data, name="roster.csv", *, dry_run=False, by="coordinator"):
        with django_capture_on_commit_callbacks(execute=True):
            job = start_roster_import(
                by=world[by], school=world.school, file_name=name, data=data, dry_run=dry_run
            )
        job.refresh_from_db()
        return job

    return run


def errors_of(job):
    return {(e["row"], e["field"], e["message"]) for e in job.errors}


# --- Formats -------------------------------------------------------------------------------


def test_utf8_csv_creates_students_guardians_and_history(world, upload):
    job = upload(csv_bytes())
    assert job.status == "succeeded", job.errors
    assert job.result == {"created": 3, "updated": 0, "unchanged": 0}
    assert Student.objects.filter(school=world.school).count() == 3
    haneul = Student.objects.get(name="김하늘")
    assert (haneul.grade, haneul.class_no, haneul.number) == (4, 2, 1)
    assert haneul.birth_date == date(2016, 3, 5) and haneul.sex == "female"
    assert haneul.neis_id == "N001" and haneul.home_borough == world.borough
    assert Student.objects.get(name="이바다").home_borough == world.borough  # by 행정표준코드
    san = Student.objects.get(name="박산")
    assert san.birth_date == date(2015, 1, 2) and san.neis_id == "" and san.home_borough is None
    guardian = haneul.guardians.get()
    assert (guardian.name, guardian.relation, guardian.phone) == ("김보호", "모", "010-1111-2222")

    assert Student.history.count() == 3
    assert Guardian.history.count() == 3
    for record in [*Student.history.all(), *Guardian.history.all()]:
        assert record.history_user == world["coordinator"]
        assert record.history_change_reason == "명부 가져오기"
        assert record.history_type == "+"


def test_utf8_csv_with_bom(upload):
    job = upload(b"\xef\xbb\xbf" + csv_bytes())
    assert job.status == "succeeded", job.errors
    assert Student.objects.count() == 3


def test_cp949_csv_keeps_korean_names(upload):
    data = csv_bytes(encoding="cp949")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    job = upload(data)
    assert job.status == "succeeded", job.errors
    assert set(Student.objects.values_list("name", flat=True)) == {"김하늘", "이바다", "박산"}
    assert Guardian.objects.get(student__name="박산").relation == "조모"


def test_xlsx_with_excel_dates_numbers_and_a_title_line(world, upload):
    data = xlsx_bytes(
        ["2026학년도 학생 명부"],
        [],
        ROSTER_HEADER.split(","),
        [4, 2, 1, "최별", datetime(2016, 4, 1), "여", "X1", "최보호", "모", 1055556666, 11545],
        [4, 2, 2.0, "한결", "2016.05.06", "M", 12345.0, "", "", "", ""],
        [4, 2, 3, "오름", 20160707, "남", "", "", "", "", ""],
    )
    job = upload(data, name="명부.XLSX")
    assert job.status == "succeeded", job.errors
    byul = Student.objects.get(name="최별")
    assert byul.birth_date == date(2016, 4, 1) and byul.home_borough == world.borough
    assert byul.guardians.get().phone == "01055556666"  # Excel dropped the leading 0
    gyeol = Student.objects.get(name="한결")
    assert (gyeol.number, gyeol.neis_id, gyeol.sex) == (2, "12345", "male")
    assert Student.objects.get(name="오름").birth_date == date(2016, 7, 7)


def test_xlsx_errors_carry_the_spreadsheet_row_numbers(upload):
    data = xlsx_bytes(
        ["2026학년도 학생 명부"],
        ROSTER_HEADER.split(","),
        [4, 2, 1, "최별", "2016-04-01", "여", "", "", "", "", ""],
        [],
        [4, 2, 2, "한결", "어제", "남", "", "", "", "", ""],
    )
    job = upload(data, name="roster.xlsx")
    assert job.status == "failed"
    assert errors_of(job) == {
        (5, "생년월일", "생년월일 형식이 올바르지 않습니다 (예: 2016-03-05).")
    }


def test_header_aliases_are_accepted(upload):
    header = "학년,반,출석번호,이름,생년월일,성별,NEIS 식별번호,보호자 성명,보호자와의 관계,보호자 전화번호,자치구"
    job = upload(
        csv_bytes(["3,1,7,윤슬,2017-08-09,F,Z9,윤보호,부,02-123-4567,금천구"], header=header)
    )
    assert job.status == "succeeded", job.errors
    student = Student.objects.get()
    assert (student.number, student.neis_id, student.sex) == (7, "Z9", "female")
    assert student.guardians.get().phone == "02-123-4567"


def test_undecodable_file_is_refused_with_a_clear_message(upload):
    job = upload(b"\x81\xff\xfe\x00" * 8)
    assert job.status == "failed"
    assert "UTF-8 또는 CP949" in job.errors[0]["message"]
    assert job.payload is None


def test_missing_required_columns_is_one_file_level_error(upload):
    job = upload(csv_bytes(["김하늘,2016-03-05"], header="성명,생년월일"))
    assert job.status == "failed"
    assert errors_of(job) == {
        (1, "학년, 반, 번호, 성별", "필수 열이 없습니다: 학년, 반, 번호, 성별")
    }


# --- Validation ----------------------------------------------------------------------------


def test_broken_rows_are_reported_precisely_and_nothing_is_written(upload):
    rows = [
        ROSTER_ROWS[0],
        "13,2,2,이바다,2016-07-21,남,N002,,,,",
        "4,2,3,,2016-07-21,여,N003,,,,",
        "4,2,4,정강,2016/13/40,남,N004,,,,",
        "4,2,5,한결,2016-05-05,?,N005,,,,",
        "4,0,6,나래,2999-01-01,여,N006,,,,",
        "4,2,7,다온,2016-01-01,여,N007,,,,없는구",
        "4,2,8,라온,2016-01-01,여,N008,,,전화,",
        "4,2,9,마루,2016-01-01,여,N009,마보호,,,",
    ]
    job = upload(csv_bytes(rows))
    assert job.status == "failed"
    assert errors_of(job) == {
        (3, "학년", "학년은 1~12 사이의 숫자여야 합니다."),
        (4, "성명", "이름이 비어 있습니다."),
        (5, "생년월일", "생년월일 형식이 올바르지 않습니다 (예: 2016-03-05)."),
        (6, "성별", "성별은 남 또는 여로 적어 주세요."),
        (7, "반", "반은 1~99 사이의 숫자여야 합니다."),
        (7, "생년월일", "생년월일이 오늘보다 뒤입니다."),
        (8, "거주 자치구", "알 수 없는 자치구입니다: 없는구"),
        (9, "보호자명", "보호자 정보가 있으면 보호자명도 적어 주세요."),
        (9, "보호자연락처", "보호자연락처 형식이 올바르지 않습니다 (예: 010-1234-5678)."),
        (10, "보호자관계", "보호자명이 있으면 보호자관계도 적어 주세요."),
    }
    assert job.total == 9 and job.result == {} and job.payload is None
    assert not Student.objects.exists() and not Guardian.objects.exists()


def test_odd_digits_are_row_errors_not_a_crash(upload):
    rows = [
        "²,2,1,김하늘,2016-03-05,여,N001,,,,",  # a digit int() cannot read
        "4,2,3,이바다,2016-07-21,남,N002,,,,",
        f"4,{'9' * 5000},2,박산,2015-01-02,남,N003,,,,",  # past Python's digit limit
        "４,２,1,정강,2016-05-05,남,N004,,,,",  # full-width, as a Korean keyboard may type
    ]
    job = upload(csv_bytes(rows))
    assert job.status == "failed"
    assert errors_of(job) == {
        (2, "학년", "학년은 1~12 사이의 숫자여야 합니다."),
        (4, "반", "반은 1~99 사이의 숫자여야 합니다."),
    }


def test_duplicate_rows_name_both_rows(upload):
    job = upload(csv_bytes([ROSTER_ROWS[0], ROSTER_ROWS[1], ROSTER_ROWS[0]]))
    assert job.status == "failed"
    assert errors_of(job) == {
        (4, "학생개인번호", "같은 파일에 같은 학생이 두 번 있습니다 (2행과 같음).")
    }
    assert not Student.objects.exists()


def test_same_name_and_birth_date_without_neis_id_is_a_duplicate(upload):
    rows = ["4,2,1,김하늘,2016-03-05,여,,,,,", "4,3,1,김하늘,2016-03-05,여,N001,,,,"]
    job = upload(csv_bytes(rows))
    assert errors_of(job) == {(3, "성명", "같은 파일에 같은 학생이 두 번 있습니다 (2행과 같음).")}


def test_namesakes_with_different_neis_ids_are_two_students(upload):
    rows = ["4,2,1,김하늘,2016-03-05,여,N001,,,,", "4,3,1,김하늘,2016-03-05,여,N002,,,,"]
    job = upload(csv_bytes(rows))
    assert job.status == "succeeded", job.errors
    assert Student.objects.filter(name="김하늘").count() == 2


# --- Re-imports ----------------------------------------------------------------------------


def test_reimport_of_the_same_file_changes_nothing(upload):
    upload(csv_bytes())
    history = Student.history.count(), Guardian.history.count()
    again = upload(csv_bytes())
    assert again.status == "succeeded", again.errors
    assert again.result == {"created": 0, "updated": 0, "unchanged": 3}
    assert Student.objects.count() == 3 and Guardian.objects.count() == 3
    assert (Student.history.count(), Guardian.history.count()) == history


def test_reimport_updates_instead_of_duplicating(world, upload):
    upload(csv_bytes())
    moved = [ROSTER_ROWS[0].replace("4,2,1", "4,3,1"), *ROSTER_ROWS[1:]]
    job = upload(csv_bytes(moved))
    assert job.result == {"created": 0, "updated": 1, "unchanged": 2}
    assert Student.objects.count() == 3
    haneul = Student.objects.get(name="김하늘")
    assert haneul.class_no == 3
    latest = haneul.history.latest()
    assert latest.history_type == "~" and latest.class_no == 3
    assert latest.history_change_reason == "명부 가져오기"
    assert latest.history_user == world["coordinator"]
    assert haneul.history.count() == 2


def test_reimport_matches_by_name_and_birth_date_and_learns_the_neis_id(upload):
    upload(csv_bytes())
    rows = ["6,1,3,박산,2015-01-02,남,N003,박보호,조모,010-5555-6666,"]
    job = upload(csv_bytes(rows))
    assert job.result == {"created": 0, "updated": 1, "unchanged": 0}
    san = Student.objects.get(name="박산")
    assert (san.grade, san.neis_id) == (6, "N003")
    assert san.guardians.get().phone == "010-5555-6666"  # same guardian, new number


def test_reimport_by_neis_id_and_guardian_changes(upload):
    upload(csv_bytes())
    rows = [
        # a known guardian with a new number
        "4,2,1,김하늘,2016-03-05,여,N001,김보호,모,010-9999-0000,금천구",
        # a second guardian; a blank borough keeps the one on record
        "4,2,2,이바다,2016-07-21,남,N002,이할머니,조모,,",
    ]
    job = upload(csv_bytes(rows))
    assert job.result == {"created": 0, "updated": 2, "unchanged": 0}
    assert Student.objects.count() == 3  # 박산, absent from the file, is left alone
    assert Guardian.objects.get(name="김보호").phone == "010-9999-0000"
    bada = Student.objects.get(name="이바다")
    assert set(bada.guardians.values_list("relation", flat=True)) == {"부", "조모"}
    assert bada.home_borough is not None
    changed = Guardian.history.filter(name="김보호").latest()
    assert changed.history_type == "~" and changed.history_change_reason == "명부 가져오기"


def test_blank_cells_in_a_reimport_keep_what_is_stored(world, upload):
    upload(csv_bytes())
    job = upload(csv_bytes(["4,3,1,김하늘,2016-03-05,여,,김보호,모,,"]))
    assert job.result == {"created": 0, "updated": 1, "unchanged": 0}
    haneul = Student.objects.get(name="김하늘")
    assert (haneul.class_no, haneul.neis_id, haneul.home_borough) == (3, "N001", world.borough)
    assert haneul.guardians.get().phone == "010-1111-2222"
    latest = haneul.history.latest()
    assert (latest.history_type, latest.class_no, latest.neis_id) == ("~", 3, "N001")
    assert latest.home_borough_id == world.borough.pk and latest.updated_at == haneul.updated_at


def test_a_namesake_with_another_neis_id_is_a_new_student(upload):
    upload(csv_bytes())
    job = upload(csv_bytes(["1,1,1,김하늘,2016-03-05,여,N999,,,,"]))
    assert job.result == {"created": 1, "updated": 0, "unchanged": 0}
    assert Student.objects.filter(name="김하늘").count() == 2


def test_students_of_other_schools_are_never_matched(world, upload):
    other = Student.objects.create(
        school=world.other_school,
        name="김하늘",
        birth_date=date(2016, 3, 5),
        sex="female",
        grade=4,
        class_no=1,
        number=1,
        neis_id="N001",
    )
    upload(csv_bytes())
    other.refresh_from_db()
    assert other.class_no == 1
    assert Student.objects.filter(school=world.school, name="김하늘").count() == 1


def test_a_row_matching_a_student_another_row_claimed_is_an_error(world, upload):
    upload(csv_bytes())
    rows = [
        "4,2,1,김하늘,2016-03-05,여,,,,,",  # name and birth date: 김하늘 (N001)
        "4,2,9,김하늬,2016-03-06,여,N001,,,,",  # N001 claims 김하늘 first
    ]
    job = upload(csv_bytes(rows))
    assert job.status == "failed"
    assert errors_of(job) == {
        (2, "성명", "3행과 같은 학생으로 확인됩니다. NEIS 식별번호를 확인해 주세요.")
    }
    assert Student.objects.get(neis_id="N001").number == 1


# --- Dry run, progress, the file -----------------------------------------------------------


def test_dry_run_previews_and_writes_nothing(upload):
    job = upload(csv_bytes(), dry_run=True)
    assert job.status == "succeeded", job.errors
    assert job.result["rows"] == 3
    assert (job.result["created"], job.result["updated"], job.result["unchanged"]) == (3, 0, 0)
    first = job.result["preview"][0]
    assert first == {
        "row": 2,
        "action": "create",
        "name": "김하늘",
        "grade": 4,
        "class_no": 2,
        "number": 1,
        "birth_date": "2016-03-05",
        "sex": "female",
        "neis_id": "N001",
        "home_borough": "금천구",
        "guardian_name": "김보호",
        "guardian_relation": "모",
    }
    assert not Student.objects.exists() and not Guardian.objects.exists()
    assert not Student.history.exists()
    # The checked file waits on the job, to be saved from its page without a second upload.
    assert bytes(job.payload) == csv_bytes() and job.progress == 100


def test_dry_run_preview_is_limited_and_says_what_would_change(upload):
    upload(csv_bytes())
    rows = [f"1,1,{i % 99 + 1},학생{i},2019-01-01,여,D{i},,,," for i in range(30)]
    job = upload(
        csv_bytes([ROSTER_ROWS[0].replace("4,2,1", "4,3,1"), ROSTER_ROWS[1], *rows]), dry_run=True
    )
    assert len(job.result["preview"]) == 20
    assert [p["action"] for p in job.result["preview"][:3]] == ["update", "unchanged", "create"]
    assert (job.result["created"], job.result["updated"], job.result["unchanged"]) == (30, 1, 1)
    assert Student.objects.get(name="김하늘").class_no == 2


def test_dry_run_reports_row_errors_too(upload):
    job = upload(csv_bytes(["4,2,1,김하늘,2016-03-05,?,,,,,"]), dry_run=True)
    assert job.status == "failed"
    assert errors_of(job) == {(2, "성별", "성별은 남 또는 여로 적어 주세요.")}


def test_progress_reaches_100_and_the_file_is_dropped(upload):
    job = upload(csv_bytes())
    assert job.progress == 100 and (job.processed, job.total) == (3, 3)
    assert job.payload is None and job.finished_at is not None
    assert job.history.filter(status="running").exists()  # the job's own trail, without the file


def test_progress_is_saved_every_200_rows(upload):
    rows = [
        f"{i % 6 + 1},{i % 9 + 1},{i % 30 + 1},학생{i},2015-01-01,여,P{i},,,," for i in range(1000)
    ]
    with CaptureQueriesContext(connection) as queries:
        job = upload(csv_bytes(rows))
    assert job.status == "succeeded", job.errors[:3]
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "casework_job"')]
    progress = [sql for sql in updates if '"processed" =' in sql and '"status"' not in sql]
    assert len(progress) == 5
    assert job.progress == 100


def test_a_failure_while_writing_rolls_back_and_drops_the_file(upload, monkeypatch):
    real_write = imports.write_plan

    def write_then_fail(plan, *, by):
        real_write(plan, by=by)
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports.write, "write_plan", write_then_fail)
    job = upload(csv_bytes())
    assert job.status == "failed" and job.payload is None
    assert "아무것도 저장하지 않았습니다" in job.errors[0]["message"]
    assert not Student.objects.exists() and not Student.history.exists()


def test_a_job_delivered_twice_runs_once(upload):
    job = upload(csv_bytes())
    assert import_roster(str(job.pk)) == "skipped"
    assert Student.objects.count() == 3


def test_the_import_stops_if_the_uploader_lost_the_role(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = start_roster_import(
            by=world["coordinator"],
            school=world.school,
            file_name="r.csv",
            data=csv_bytes(),
            dry_run=False,
        )
    membership = Membership.objects.get(user=world["coordinator"])
    membership.active = False
    membership.save()
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == "failed" and job.payload is None
    assert not Student.objects.exists()


# --- Who may, which files ------------------------------------------------------------------


@pytest.mark.parametrize("username", ["teacher", "coordinator2", "principal", "casemanager"])
def test_only_the_schools_coordinator_imports(world, username):
    with pytest.raises(PermissionDenied):
        start_roster_import(
            by=world[username],
            school=world.school,
            file_name="r.csv",
            data=csv_bytes(),
            dry_run=True,
        )
    assert not Job.objects.exists()


def test_a_coordinator_without_a_current_approval_cannot_import(world):
    membership = Membership.objects.get(user=world["coordinator"])
    membership.approval_expires_on = timezone.localdate() - timedelta(days=1)
    membership.save()
    with pytest.raises(PermissionDenied):
        start_roster_import(
            by=world["coordinator"],
            school=world.school,
            file_name="r.csv",
            data=csv_bytes(),
            dry_run=True,
        )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("roster.pdf", b"%PDF-1.7"),
        ("roster.xls", b"\xd0\xcf\x11\xe0"),
        ("roster.csv", b""),
        ("roster.csv", b"x" * (5 * 1024 * 1024 + 1)),
        ("roster.xlsx", b"not a zip"),
    ],
)
def test_bad_files_are_refused_at_upload(world, name, data):
    with pytest.raises(ValidationError) as raised:
        start_roster_import(
            by=world["coordinator"], school=world.school, file_name=name, data=data, dry_run=True
        )
    assert "file" in raised.value.message_dict
    assert not Job.objects.exists()


def test_the_client_path_is_dropped_from_the_file_name(upload):
    job = upload(csv_bytes(), name="C:\\Users\\교사\\바탕 화면\\명부.csv")
    assert job.file_name == "명부.csv" and job.status == "succeeded"


@pytest.mark.parametrize(
    "title", ["주민등록번호", "주민번호", "학생 주민등록번호", "외국인등록번호"]
)
def test_a_resident_registration_number_column_is_refused(upload, title):
    job = upload(
        csv_bytes(["4,2,1,김하늘,2016-03-05,여,N001,,,,,"], header=f"{ROSTER_HEADER},{title}")
    )
    assert job.status == "failed" and job.payload is None
    [error] = job.errors
    assert error["row"] == 1 and error["field"] == title and RRN_MESSAGE in error["message"]
    assert not Student.objects.exists()


@pytest.mark.parametrize("value", ["160305-4123456", "1603054123456"])
def test_a_resident_registration_number_anywhere_is_refused_and_not_echoed(upload, value):
    rows = [ROSTER_ROWS[0], f"4,2,2,이바다,2016-07-21,남,N002,,,{value},"]
    job = upload(csv_bytes(rows))
    assert job.status == "failed"
    [error] = job.errors
    assert (error["row"], error["field"]) == (3, "보호자연락처")
    assert RRN_MESSAGE in error["message"] and value not in error["message"]
    assert not Student.objects.exists()


def test_a_rrn_in_an_xlsx_number_cell_is_refused(upload):
    data = xlsx_bytes(
        [*ROSTER_HEADER.split(","), "비고"],
        [4, 2, 1, "김하늘", "2016-03-05", "여", "", "", "", "", "", 1603054123456],
    )
    job = upload(data, name="r.xlsx")
    assert job.status == "failed" and RRN_MESSAGE in job.errors[0]["message"]


# --- Boroughs ------------------------------------------------------------------------------


def test_a_bare_borough_name_is_read_in_the_schools_city(world, upload):
    seoul_jung = factories.BoroughFactory(name="중구", region_code="11140")
    factories.BoroughFactory(name="대구광역시 중구", region_code="27140")
    factories.BoroughFactory(name="광주광역시 동구", region_code="29110")
    factories.BoroughFactory(name="대구광역시 동구", region_code="27110")
    rows = [
        "4,2,1,김하늘,2016-03-05,여,N001,,,,중구",
        "4,2,2,이바다,2016-07-21,남,N002,,,,대구광역시 중구",
        "4,2,3,박산,2015-01-02,남,N003,,,,동구",
    ]
    job = upload(csv_bytes(rows))
    assert job.status == "failed"
    assert errors_of(job) == {
        (
            4,
            "거주 자치구",
            "같은 이름의 자치구가 여러 곳입니다. 5자리 행정표준코드로 적어 주세요: 동구",
        )
    }
    job = upload(csv_bytes(rows[:2]))
    assert job.status == "succeeded", job.errors
    assert Student.objects.get(name="김하늘").home_borough == seoul_jung
    assert Student.objects.get(name="이바다").home_borough.region_code == "27140"


# --- Scale ---------------------------------------------------------------------------------


def roster_rows(n, class_shift=0, borough="금천구"):
    return [
        f"{i % 6 + 1},{(i + class_shift) % 9 + 1},{i % 30 + 1},학생{i},2015-01-{i % 28 + 1:02d},"
        f"여,ID{i},보호{i},모,010-0000-{i:04d},{borough}"
        for i in range(n)
    ]


def test_large_import_uses_bounded_queries(world, upload, django_assert_max_num_queries):
    with django_assert_max_num_queries(60):
        small = upload(csv_bytes(roster_rows(100)))
    with django_assert_max_num_queries(60):
        large = upload(csv_bytes(roster_rows(1000)))
    assert small.status == large.status == "succeeded"
    assert large.result == {"created": 900, "updated": 0, "unchanged": 100}
    assert Student.objects.count() == 1000 and Guardian.objects.count() == 1000
    # Re-importing with every class moved and a new borough stays bounded too.
    factories.BoroughFactory(name="구로구", region_code="11530")
    with django_assert_max_num_queries(60):
        moved = upload(csv_bytes(roster_rows(1000, class_shift=1, borough="11530")))
    assert moved.result == {"created": 0, "updated": 1000, "unchanged": 0}
    assert Student.history.filter(history_type="~").count() == 1000


def test_parse_alone_reports_rows_without_touching_students(world):
    parsed = imports.parse(csv_bytes(), "r.csv", school=world.school)
    assert parsed.total == 3 and not parsed.errors
    assert [r.name for r in parsed.rows] == ["김하늘", "이바다", "박산"]
    assert parsed.columns["neis_id"] == "학생개인번호"


def test_new_ids_are_random_version_4_uuids():
    ids = imports.new_ids(1000)
    assert len(set(ids)) == 1000
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and parsed.hex == value


def test_too_many_errors_are_capped():
    errors = [{"row": n, "field": "학년", "message": "x"} for n in range(2, 1_100)]
    capped = imports.capped(errors)
    assert len(capped) == imports.MAX_ERRORS + 1
    assert capped[-1]["row"] == imports.MAX_ERRORS + 2 and "1098" in capped[-1]["message"]
