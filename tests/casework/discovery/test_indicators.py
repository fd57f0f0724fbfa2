"""Early discovery: indicator imports (formats, row errors, matching, who), the screening level
kept from those who may not read it, the thresholds a school may only tighten, and the
set-based evaluation that turns crossings into flags."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from casework import access
from casework.models import (
    AttendanceSummary,
    BasicLearningResult,
    DiscoveryFlag,
    DiscoveryRules,
    Job,
    ScreeningResult,
)
from casework.workflows import discovery, intake
from tests.builders import xlsx_bytes
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
START = (TODAY - timedelta(days=20)).isoformat()
END = (TODAY - timedelta(days=1)).isoformat()
ATTENDANCE_HEADER = "성명,생년월일,NEIS 식별번호,기간 시작일,기간 종료일,수업일수,질병결석,미인정결석,기타결석,지각,조퇴,결과"


def attendance_csv(*rows, encoding="utf-8"):
    lines = [ATTENDANCE_HEADER, *(",".join(map(str, r)) for r in rows)]
    return ("\n".join(lines) + "\n").encode(encoding)


@pytest.fixture
def pupils(world):
    haneul = StudentFactory(
        school=world.school, name="김하늘", birth_date=date(2016, 3, 5), neis_id="N001"
    )
    bada = StudentFactory(school=world.school, name="이바다", birth_date=date(2016, 7, 1))
    return haneul, bada


@pytest.fixture
def upload(world, django_capture_on_commit_callbacks):
    def run(data, kind="attendance", name="indicators.csv", *, dry_run=False, by="coordinator"):
        with django_capture_on_commit_callbacks(execute=True):
            job = discovery.start_indicator_import(
                by=world[by],
                school=world.school,
                kind=kind,
                file_name=name,
                data=data,
                dry_run=dry_run,
            )
        job.refresh_from_db()
        return job

    return run


# --- Imports ---------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_real_run_stores_with_history(world, pupils, upload):
    haneul, _bada = pupils
    data = attendance_csv(
        ["", "", "N001", START, END, 15, 1, 4, 0, 2, 1, 0],
        ["이바다", "2016-07-01", "", START, END, 15, 0, 0, 0, 0, 0, 0],
    )
    job = upload(data, dry_run=True)
    assert job.status == "succeeded", job.errors
    assert job.result["created"] == 2 and job.payload is None
    assert not AttendanceSummary.objects.exists()

    job = upload(data)
    assert job.status == "succeeded", job.errors
    assert job.result["created"] == 2
    row = AttendanceSummary.objects.get(student=haneul)
    assert (row.school_days, row.absent_unexcused, row.late, row.job_id) == (15, 4, 2, job.pk)
    assert row.file_name == "indicators.csv"
    assert AttendanceSummary.history.filter(history_type="+").count() == 2
    assert AttendanceSummary.history.first().history_user == world["coordinator"]

    again = upload(data)
    assert again.result["unchanged"] == 2 and again.result["created"] == 0


def test_cp949_and_xlsx(world, pupils, upload):
    job = upload(
        attendance_csv(
            ["이바다", "2016-07-01", "", START, END, 15, 0, 3, 0, 0, 0, 0], encoding="cp949"
        )
    )
    assert job.status == "succeeded", job.errors
    data = xlsx_bytes(
        ["성명", "생년월일", "검사일", "결과"], ["김하늘", date(2016, 3, 5), TODAY, "관심군"]
    )
    job = upload(data, kind="screening", name="검사.xlsx")
    assert job.status == "succeeded", job.errors
    assert ScreeningResult.objects.get().level == "interest"


def test_row_errors_point_at_row_and_column(world, pupils, upload):
    data = attendance_csv(
        ["없는학생", "2010-01-01", "", START, END, 15, 0, 0, 0, 0, 0, 0],
        ["이바다", "2016-07-01", "", "어제", END, 15, 0, 0, 0, 0, 0, 0],
        ["이바다", "2016-07-01", "", START, END, 5, 0, 9, 0, 0, 0, 0],
    )
    job = upload(data)
    assert job.status == "failed"
    found = {(e["row"], e["field"]) for e in job.errors}
    assert (2, "성명") in found and (3, "기간 시작일") in found and (4, "미인정결석") in found
    assert "명부에서 학생을 찾을 수 없습니다" in job.errors[0]["message"]
    assert not AttendanceSummary.objects.exists()

    job = upload(b"\xec\x84\xb1\xeb\xaa\x85,x\n\xea\xb9\x80,1\n", kind="screening")
    assert job.status == "failed" and "필수 열이 없습니다" in job.errors[0]["message"]


def test_matching_by_neis_id_before_name(world, pupils, upload):
    haneul, _bada = pupils
    data = xlsx_bytes(
        ["성명", "생년월일", "NEIS 식별번호", "진단일", "과목", "결과"],
        ["다른이름", "2000-01-01", "N001", TODAY, "국어", "미도달"],
    )
    job = upload(data, kind="basic_learning", name="b.xlsx")
    assert job.status == "succeeded", job.errors
    assert BasicLearningResult.objects.get().student == haneul


def test_only_the_coordinator_imports(world, pupils):
    for who in ("teacher", "counselor", "principal", "coordinator2", "casemanager"):
        with pytest.raises(PermissionDenied):
            discovery.start_indicator_import(
                by=world[who],
                school=world.school,
                kind="attendance",
                file_name="a.csv",
                data=attendance_csv(),
                dry_run=True,
            )
    with pytest.raises(ValidationError):
        discovery.start_indicator_import(
            by=world["coordinator"],
            school=world.school,
            kind="grades",
            file_name="a.csv",
            data=b"x",
            dry_run=True,
        )


def test_import_api(world, pupils, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(world["coordinator"])
    data = attendance_csv(["이바다", "2016-07-01", "", START, END, 15, 0, 3, 0, 0, 0, 0])
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/api/v1/indicators/import/?kind=attendance&dry_run=1",
            {"file": SimpleUploadedFile("a.csv", data)},
            format="multipart",
        )
    assert answer.status_code == 202
    job = client.get(f"/api/v1/jobs/{answer.json()['job']}/")
    assert job.status_code == 200 and job.json()["status"] == "succeeded"
    bad = client.post(
        "/api/v1/indicators/import/?kind=nope", {"file": SimpleUploadedFile("a.csv", data)}
    )
    assert bad.status_code == 400
    teacher = APIClient()
    teacher.force_authenticate(world["teacher"])
    refused = teacher.post(
        "/api/v1/indicators/import/?kind=attendance",
        {"file": SimpleUploadedFile("a.csv", data)},
        format="multipart",
    )
    assert refused.status_code == 403


def test_screening_level_only_for_coordinator_and_counsellors(world, pupils):
    haneul, _bada = pupils
    result = ScreeningResult.objects.create(
        student=haneul, school=world.school, assessed_on=TODAY, level="suicide_risk"
    )
    assert access.screening_level_shown(world["coordinator"], result) == "자살위험"
    assert access.screening_level_shown(world["counselor"], result) == "자살위험"
    for who in ("teacher", "principal", "vice", "coordinator2", "casemanager"):
        assert access.screening_level_shown(world[who], result) == "검사 결과 확인 필요"
    assert "자살" not in str(result)


# --- Rules -----------------------------------------------------------------------------------


def test_rules_default_and_a_school_may_only_tighten(world):
    client = APIClient()
    client.force_authenticate(world["coordinator"])
    got = client.get("/api/v1/indicators/rules/").json()
    assert got["in_force"] == discovery.DEFAULT_RULES and got["own"] is None
    tighter = {
        "absence_days": 2,
        "absence_percent": 5,
        "not_reached_subjects": 1,
        "screening_level": "interest",
    }
    put = client.put("/api/v1/indicators/rules/", tighter, format="json")
    assert put.status_code == 200 and put.json()["in_force"] == tighter
    looser = client.put("/api/v1/indicators/rules/", {**tighter, "absence_days": 5}, format="json")
    assert looser.status_code == 400 and "absence_days" in looser.content.decode()
    assert "교육청 기준" in looser.content.decode()
    assert DiscoveryRules.objects.get(school=world.school).absence_days == 2
    # An office's own defaults bound what its schools may set.
    DiscoveryRules.objects.create(
        office=world.nambu,
        absence_days=2,
        absence_percent=10,
        not_reached_subjects=2,
        screening_level="priority",
    )
    assert (
        client.put(
            "/api/v1/indicators/rules/",
            {**tighter, "screening_level": "suicide_risk"},
            format="json",
        ).status_code
        == 400
    )
    teacher = APIClient()
    teacher.force_authenticate(world["teacher"])
    assert teacher.get("/api/v1/indicators/rules/").status_code == 200
    assert teacher.put("/api/v1/indicators/rules/", tighter, format="json").status_code == 403


# --- Evaluation ------------------------------------------------------------------------------


def _attendance(student, unexcused, days=15, start=START, end=END):
    return AttendanceSummary.objects.create(
        student=student,
        school=student.school,
        period_start=start,
        period_end=end,
        school_days=days,
        absent_unexcused=unexcused,
    )


def test_evaluation_flags_with_reasons_in_korean(world, pupils):
    haneul, bada = pupils
    row = _attendance(haneul, 3)
    _attendance(bada, 1)
    assert discovery.evaluate(schools=[world.school])["created"] == 1
    flag = DiscoveryFlag.objects.get()
    assert flag.student == haneul and flag.status == "open" and flag.attendance == row
    assert flag.domains == ["attendance"] and not flag.composite and flag.severity == 1
    assert any("미인정 결석 3일" in reason for reason in flag.reasons)
    assert DiscoveryFlag.history.filter(history_type="+").count() == 1
    # Nothing new: nothing changes, no history.
    assert discovery.evaluate(schools=[world.school]) == {"created": 0, "changed": 0}


def test_composite_when_two_domains_cross(world, pupils):
    haneul, _bada = pupils
    _attendance(haneul, 4)
    for subject in ("국어", "수학"):
        BasicLearningResult.objects.create(
            student=haneul,
            school=world.school,
            assessed_on=TODAY,
            subject=subject,
            result="not_reached",
        )
    ScreeningResult.objects.create(
        student=haneul, school=world.school, assessed_on=TODAY, level="suicide_risk"
    )
    discovery.evaluate()
    flag = DiscoveryFlag.objects.get()
    assert flag.composite and set(flag.domains) == {"attendance", "basic_learning", "screening"}
    assert flag.severity == 3 and flag.reasons[0].startswith("복합 위기")
    assert len(flag.basic_learning) == 2
    assert not any("자살" in reason for reason in flag.reasons)


def test_covered_by_an_open_concern_or_case(world, pupils):
    haneul, bada = pupils
    concern = intake.raise_concern(by=world["teacher"], student=haneul, difficulties=["health"])
    case = intake.open_case(by=world["coordinator"], student=bada, difficulties=["economic"])
    _attendance(haneul, 5)
    _attendance(bada, 5)
    discovery.evaluate(schools=[world.school])
    assert DiscoveryFlag.objects.filter(status="open").count() == 0
    assert DiscoveryFlag.objects.get(student=haneul).concern == concern
    assert DiscoveryFlag.objects.get(student=bada).case == case


def test_dismissed_reopens_only_on_new_evidence(world, pupils):
    haneul, _bada = pupils
    row = _attendance(haneul, 3)
    discovery.evaluate()
    DiscoveryFlag.objects.update(status="dismissed", dismissed_reason="가정 사정 확인")
    discovery.evaluate()
    assert DiscoveryFlag.objects.get().status == "dismissed"
    row.absent_unexcused = 5
    row.save()  # a newer indicator value
    assert discovery.evaluate()["changed"] == 1
    assert DiscoveryFlag.objects.get().status == "open"


def test_evaluation_is_a_fixed_number_of_statements(world):
    def queries_for(n):
        DiscoveryFlag.objects.all().delete()
        for _ in range(n):
            _attendance(StudentFactory(school=world.school), 4)
        with CaptureQueriesContext(connection) as captured:
            discovery.evaluate(schools=[world.school])
        return len(captured)

    few, many = queries_for(2), queries_for(30)
    assert few == many
    assert DiscoveryFlag.objects.count() == 32


def test_real_import_evaluates_the_school(world, pupils, upload):
    job = upload(attendance_csv(["이바다", "2016-07-01", "", START, END, 15, 0, 6, 0, 0, 0, 0]))
    assert job.status == "succeeded", job.errors
    assert job.result["flags"]["created"] == 1
    assert DiscoveryFlag.objects.get().student.name == "이바다"
    assert Job.objects.get(pk=job.pk).kind == discovery.INDICATOR_IMPORT
