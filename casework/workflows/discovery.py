"""Early discovery (DESIGN.md §11, docs/discovery.md): indicator imports, the thresholds in force
for a school, and the set-based evaluation that turns crossings into flags.

The evaluation is a fixed handful of SQL statements whatever the number of students: one builds
the crossings (a temporary table), one refreshes or re-opens the current flags, one inserts the
new ones, and two write their history rows.
"""

import logging
import re
from datetime import timedelta
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access, imports
from casework.imports import indicators
from casework.models import (
    FINISHED_STATUSES,
    SCREENING_RANK,
    Concern,
    DiscoveryFlag,
    DiscoveryRules,
    EnrolmentStatus,
    FlagSeverity,
    FlagStatus,
    IndicatorKind,
    Job,
    ScreeningLevel,
)
from casework.queue import enqueue
from core.bulk import insert_history
from partners.choices import OrganizationKind
from partners.models import Organization, User

from .common import attribute
from .roster import EXTENSIONS, MAX_BYTES, ZIP_MAGIC

logger = logging.getLogger(__name__)

IMPORT_TASK = "casework.tasks.import_indicators"  # enqueued by name (casework.queue)
# Job.kind of an indicator import (the roster's save-from-dry-run never picks it up).
INDICATOR_IMPORT = "indicator_import"
EVALUATION_REASON = gettext_noop("조기 발견 기준 점검")

# The defaults where an education office set none (docs/discovery.md, with their sources):
# EWIMS-like attendance thresholds, two 미도달 subjects, 관심군 or above.
DEFAULT_RULES = {
    "absence_days": 3,
    "absence_percent": 10,
    "not_reached_subjects": 2,
    "screening_level": ScreeningLevel.INTEREST,
}
RULE_FIELDS = tuple(DEFAULT_RULES)
# A school's rule of "정상" would flag every student: the screening rule starts at 관심군.
LOWEST_SCREENING = ScreeningLevel.INTEREST


# --- Imports ---------------------------------------------------------------------------------


@transaction.atomic
def start_indicator_import(
    *, by: User, school: Organization, kind: str, file_name: str, data: bytes, dry_run: bool
) -> Job:
    """Queue an import of an indicator file of `kind` for `school`; the job reports progress and
    row errors like a roster import. Only the school's coordinator imports indicators."""
    if not access.keeps_indicators(by, school):
        raise PermissionDenied(_("지표 파일은 학교의 담당자가 가져옵니다."))
    if kind not in IndicatorKind.values:
        raise ValidationError(
            {"kind": _("kind는 attendance, basic_learning, screening 중 하나여야 합니다.")}
        )
    file_name = re.split(r"[\\/]", file_name or "")[-1].strip()
    if not file_name.lower().endswith(EXTENSIONS):
        raise ValidationError({"file": _("CSV 또는 XLSX 파일만 올릴 수 있습니다.")})
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": _("파일이 너무 큽니다 (최대 5MB).")})
    if not data:
        raise ValidationError({"file": _("빈 파일입니다.")})
    if file_name.lower().endswith(".xlsx") and not data.startswith(ZIP_MAGIC):
        raise ValidationError(
            {"file": _("XLSX 파일이 아닙니다. 엑셀에서 'Excel 통합 문서(.xlsx)'로 저장해 주세요.")}
        )
    job = Job(
        kind=INDICATOR_IMPORT,
        created_by=by,
        organization=school,
        dry_run=dry_run,
        file_name=file_name[-255:],
        payload=data,
        result={"kind": kind},
    )
    attribute(job, by)
    job.save()
    transaction.on_commit(partial(enqueue, IMPORT_TASK, [str(job.pk)]))
    return job


def run_indicator_import(job: Job) -> None:
    """Check the running job's file and, unless it is a dry run, store it all or nothing and
    evaluate the school's rules. The file is dropped whatever happens."""
    try:
        _import_file(job)
    except Exception:
        logger.exception("indicator import %s failed", job.pk)
        job.status = Job.Status.FAILED
        job.result = {"kind": job.result.get("kind", "")}
        job.errors = [
            {
                "row": 1,
                "field": "",
                "message": _(
                    "가져오는 중 예상하지 못한 오류가 생겨 아무것도 저장하지 않았습니다. 잠시 뒤 다시 올려 주세요."
                ),
            }
        ]
    job.payload = None  # personal (and health) data: kept no longer than the work
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "total", "processed", "errors", "result", "payload", "finished_at"]
    )


def _import_file(job: Job) -> None:
    school, by, kind = job.organization, job.created_by, job.result.get("kind")
    if not access.keeps_indicators(by, school):
        job.status = Job.Status.FAILED
        job.errors = [
            {"row": 1, "field": "", "message": _("지표 파일은 학교의 담당자가 가져옵니다.")}
        ]
        return
    parsed = indicators.parse_indicators(
        bytes(job.payload or b""), job.file_name, kind=kind, school=school
    )
    job.total = job.processed = parsed.total
    if parsed.errors:
        job.status, job.errors = Job.Status.FAILED, imports.capped(parsed.errors)
        return
    if job.dry_run:
        counts = indicators.plan_counts(parsed)
    else:
        with transaction.atomic():
            # One import per school at a time, and its evaluation sees what it wrote.
            list(Organization.objects.select_for_update().filter(pk=school.pk).values_list("pk"))
            counts = indicators.write_indicators(parsed, school=school, job=job, by=by)
            counts["flags"] = evaluate(schools=[school], by=by)
    job.status = Job.Status.SUCCEEDED
    job.result = {"kind": kind, "rows": parsed.total, **counts}


# --- Rules -----------------------------------------------------------------------------------


def _office_chain(school: Organization) -> list:
    """The school's education offices, nearest first (district office, then provincial)."""
    chain, office = [], school.parent
    while office is not None and len(chain) < 3:
        chain.append(office)
        office = office.parent
    return chain


def office_rules(school: Organization) -> dict:
    """The thresholds the school's offices set (the nearest office's), else DEFAULT_RULES."""
    offices = [office.pk for office in _office_chain(school)]
    set_by = {r.office_id: r for r in DiscoveryRules.objects.filter(office_id__in=offices)}
    for office in offices:
        if office in set_by:
            return {name: getattr(set_by[office], name) for name in RULE_FIELDS}
    return dict(DEFAULT_RULES)


def tighter(a: dict, b: dict) -> dict:
    """The stricter of two sets of thresholds, rule by rule."""
    return {
        "absence_days": min(a["absence_days"], b["absence_days"]),
        "absence_percent": min(a["absence_percent"], b["absence_percent"]),
        "not_reached_subjects": min(a["not_reached_subjects"], b["not_reached_subjects"]),
        "screening_level": min(
            a["screening_level"], b["screening_level"], key=SCREENING_RANK.__getitem__
        ),
    }


def rules_in_force(school: Organization) -> dict:
    """The thresholds the school's flags are judged by, with the office's and the school's own."""
    office = office_rules(school)
    own = DiscoveryRules.objects.filter(school=school).first()
    mine = {name: getattr(own, name) for name in RULE_FIELDS} if own else None
    return {
        "in_force": tighter(office, mine) if mine else office,
        "office": office,
        "school": mine,
    }


@transaction.atomic
def set_school_rules(*, by: User, school: Organization, values: dict) -> DiscoveryRules:
    """The school's coordinator tightens the office's thresholds; looser ones are refused."""
    if not access.keeps_indicators(by, school):
        raise PermissionDenied(_("기준은 학교의 담당자가 정합니다."))
    office = office_rules(school)
    errors = {}
    for name in ("absence_days", "absence_percent", "not_reached_subjects"):
        if values[name] > office[name]:
            errors[name] = _("교육청 기준(%(limit)s)보다 느슨하게 정할 수 없습니다.") % {
                "limit": office[name]
            }
    level = values["screening_level"]
    if SCREENING_RANK[level] > SCREENING_RANK[office["screening_level"]]:
        errors["screening_level"] = _("교육청 기준보다 느슨하게 정할 수 없습니다.")
    elif SCREENING_RANK[level] < SCREENING_RANK[LOWEST_SCREENING]:
        errors["screening_level"] = _("정서·행동특성검사 기준은 관심군 이상이어야 합니다.")
    if errors:
        raise ValidationError(errors)
    rules = DiscoveryRules.objects.select_for_update().filter(school=school).first()
    rules = rules or DiscoveryRules(school=school)
    for name in RULE_FIELDS:
        setattr(rules, name, values[name])
    rules.updated_by = by
    attribute(rules, by)
    rules.save()
    return rules


# --- Evaluation ------------------------------------------------------------------------------

RANK_SQL = (
    "CASE {column} "
    + " ".join(f"WHEN '{level}' THEN {rank}" for level, rank in SCREENING_RANK.items())
    + " END"
)

# Reason templates (PostgreSQL format(): %s a value, %% a percent sign), stored in Korean.
REASONS = {
    "days": "최근 30일 미인정 결석 %s일 (기준 %s일 이상, %s~%s)",
    "share": "미인정 결석이 수업일수 %s일 중 %s일(%s%%) (기준 %s%% 이상)",
    "basic": "기초학력 진단 미도달 %s과목: %s (기준 %s과목 이상, 진단일 %s)",
    "screening": "학생정서·행동특성검사 결과 확인 필요 (기준 이상, 검사일 %s)",
    "composite": "복합 위기: %s개 영역에서 함께 기준을 넘었습니다",
}

CROSSINGS_SQL = """
CREATE TEMP TABLE discovery_crossing ON COMMIT DROP AS
WITH sch AS (
    SELECT o.id AS school_id,
        LEAST(COALESCE(sr.absence_days, 32767),
              COALESCE(r1.absence_days, r2.absence_days, r3.absence_days, %(days)s)) AS days,
        LEAST(COALESCE(sr.absence_percent, 32767),
              COALESCE(r1.absence_percent, r2.absence_percent, r3.absence_percent,
                       %(percent)s)) AS percent,
        LEAST(COALESCE(sr.not_reached_subjects, 32767),
              COALESCE(r1.not_reached_subjects, r2.not_reached_subjects,
                       r3.not_reached_subjects, %(subjects)s)) AS subjects,
        LEAST(COALESCE({sr_rank}, 99),
              COALESCE({r1_rank}, {r2_rank}, {r3_rank}, %(rank)s)) AS rank
    FROM partners_organization o
    LEFT JOIN partners_organization p1 ON p1.id = o.parent_id
    LEFT JOIN partners_organization p2 ON p2.id = p1.parent_id
    LEFT JOIN casework_discoveryrules sr ON sr.school_id = o.id
    LEFT JOIN casework_discoveryrules r1 ON r1.office_id = p1.id
    LEFT JOIN casework_discoveryrules r2 ON r2.office_id = p2.id
    LEFT JOIN casework_discoveryrules r3 ON r3.office_id = p2.parent_id
    WHERE o.kind = %(school_kind)s AND (%(all)s OR o.id = ANY(%(schools)s::uuid[]))
),
pupils AS (
    SELECT st.id AS student_id, st.school_id, sch.days, sch.percent, sch.subjects, sch.rank
    FROM casework_student st JOIN sch ON sch.school_id = st.school_id
    WHERE st.enrolment_status = %(enrolled)s
),
att AS (
    SELECT DISTINCT ON (a.student_id) a.*, p.days, p.percent
    FROM casework_attendancesummary a
    JOIN pupils p ON p.student_id = a.student_id AND p.school_id = a.school_id
    WHERE a.period_end >= %(since)s
    ORDER BY a.student_id, a.period_end DESC, a.period_start DESC
),
att_x AS (
    SELECT att.student_id, att.id, att.updated_at,
        CASE WHEN att.period_end - att.period_start <= 31 AND att.absent_unexcused >= att.days
             THEN format(%(r_days)s, att.absent_unexcused, att.days, att.period_start,
                         att.period_end) END AS by_days,
        CASE WHEN att.school_days > 0
                  AND att.absent_unexcused * 100 >= att.percent * att.school_days
             THEN format(%(r_share)s, att.school_days, att.absent_unexcused,
                         round(att.absent_unexcused * 100.0 / att.school_days),
                         att.percent) END AS by_share
    FROM att
),
bl_latest AS (
    SELECT b.student_id, max(b.assessed_on) AS assessed_on
    FROM casework_basiclearningresult b
    JOIN pupils p ON p.student_id = b.student_id AND p.school_id = b.school_id
    GROUP BY b.student_id
),
bl_x AS (
    SELECT b.student_id, array_agg(b.id ORDER BY b.subject) AS ids,
        max(b.updated_at) AS updated_at,
        format(%(r_basic)s, count(*), string_agg(b.subject, ', ' ORDER BY b.subject),
               min(p.subjects), min(b.assessed_on)) AS reason
    FROM casework_basiclearningresult b
    JOIN bl_latest l ON l.student_id = b.student_id AND l.assessed_on = b.assessed_on
    JOIN pupils p ON p.student_id = b.student_id
    WHERE b.result = %(not_reached)s
    GROUP BY b.student_id
    HAVING count(*) >= min(p.subjects)
),
scr AS (
    SELECT DISTINCT ON (s.student_id) s.*, {s_rank} AS level_rank, p.rank AS threshold
    FROM casework_screeningresult s
    JOIN pupils p ON p.student_id = s.student_id AND p.school_id = s.school_id
    ORDER BY s.student_id, s.assessed_on DESC
),
scr_x AS (
    SELECT scr.student_id, scr.id, scr.updated_at, scr.level_rank,
        format(%(r_screening)s, scr.assessed_on) AS reason
    FROM scr WHERE scr.level_rank >= scr.threshold
),
crossed AS (
    SELECT p.student_id, p.school_id,
        CASE WHEN a.by_days IS NOT NULL OR a.by_share IS NOT NULL THEN a.id END AS attendance_id,
        CASE WHEN a.by_days IS NOT NULL OR a.by_share IS NOT NULL THEN a.updated_at END
            AS attendance_at,
        a.by_days, a.by_share, b.ids AS basic_ids, b.updated_at AS basic_at,
        b.reason AS basic_reason, s.id AS screening_id, s.updated_at AS screening_at,
        s.reason AS screening_reason, s.level_rank
    FROM pupils p
    LEFT JOIN att_x a ON a.student_id = p.student_id
    LEFT JOIN bl_x b ON b.student_id = p.student_id
    LEFT JOIN scr_x s ON s.student_id = p.student_id
),
domains AS (
    SELECT c.*, array_remove(ARRAY[
            CASE WHEN c.attendance_id IS NOT NULL THEN %(d_attendance)s END,
            CASE WHEN c.basic_ids IS NOT NULL THEN %(d_basic)s END,
            CASE WHEN c.screening_id IS NOT NULL THEN %(d_screening)s END
        ]::varchar[], NULL) AS domains
    FROM crossed c
    WHERE c.attendance_id IS NOT NULL OR c.basic_ids IS NOT NULL OR c.screening_id IS NOT NULL
)
SELECT d.student_id, d.school_id, d.attendance_id, d.screening_id,
    COALESCE(d.basic_ids, '{{}}'::uuid[]) AS basic_ids, d.domains,
    cardinality(d.domains) >= 2 AS composite,
    to_jsonb(array_remove(ARRAY[
        CASE WHEN cardinality(d.domains) >= 2
             THEN format(%(r_composite)s, cardinality(d.domains)) END,
        d.by_days, d.by_share, d.basic_reason, d.screening_reason
    ], NULL)) AS reasons,
    CASE WHEN d.level_rank >= %(suicide)s THEN %(urgent)s
         WHEN cardinality(d.domains) >= 2 OR d.level_rank >= %(priority)s THEN %(concern)s
         ELSE %(watch)s END AS severity,
    GREATEST(d.attendance_at, d.basic_at, d.screening_at) AS evidence_at,
    (SELECT k.id FROM casework_case k WHERE k.student_id = d.student_id
        AND NOT (k.status = ANY(%(finished)s)) LIMIT 1) AS case_id,
    (SELECT n.id FROM casework_concern n WHERE n.student_id = d.student_id
        AND n.status = %(concern_open)s ORDER BY n.created_at DESC LIMIT 1) AS concern_id
FROM domains d
"""

CHANGED = """
    f.reasons IS DISTINCT FROM c.reasons OR f.domains IS DISTINCT FROM c.domains
    OR f.attendance_id IS DISTINCT FROM c.attendance_id
    OR f.screening_id IS DISTINCT FROM c.screening_id
    OR f.basic_learning IS DISTINCT FROM c.basic_ids
    OR f.case_id IS DISTINCT FROM c.case_id OR f.concern_id IS DISTINCT FROM c.concern_id
    OR f.severity IS DISTINCT FROM c.severity
"""
STATUS_SQL = (
    "CASE WHEN c.case_id IS NOT NULL OR c.concern_id IS NOT NULL THEN %(covered)s ELSE %(open)s END"
)

REFRESH_SQL = f"""
UPDATE casework_discoveryflag f SET
    reasons = c.reasons, domains = c.domains, severity = c.severity, composite = c.composite,
    attendance_id = c.attendance_id, screening_id = c.screening_id,
    basic_learning = c.basic_ids, evidence_at = c.evidence_at, case_id = c.case_id,
    concern_id = c.concern_id, status = {STATUS_SQL}, updated_at = now()
FROM discovery_crossing c
WHERE f.student_id = c.student_id AND (
    (f.status IN (%(open)s, %(covered)s) AND ({CHANGED}))
    OR (f.status = %(dismissed)s AND c.evidence_at > f.evidence_at)
)
RETURNING f.id
"""

INSERT_SQL = f"""
INSERT INTO casework_discoveryflag (id, student_id, school_id, reasons, domains, severity,
    composite, status, attendance_id, screening_id, basic_learning, evidence_at, case_id,
    concern_id, dismissed_reason, created_at, updated_at)
SELECT gen_random_uuid(), c.student_id, c.school_id, c.reasons, c.domains, c.severity,
    c.composite, {STATUS_SQL}, c.attendance_id, c.screening_id, c.basic_ids, c.evidence_at,
    c.case_id, c.concern_id, '', now(), now()
FROM discovery_crossing c
WHERE NOT EXISTS (
    SELECT 1 FROM casework_discoveryflag f WHERE f.student_id = c.student_id
        AND (f.status IN (%(open)s, %(covered)s, %(dismissed)s)
             OR (f.status = %(raised)s AND f.evidence_at >= c.evidence_at))
)
RETURNING id
"""


def _params(schools, today) -> dict:
    return {
        "days": DEFAULT_RULES["absence_days"],
        "percent": DEFAULT_RULES["absence_percent"],
        "subjects": DEFAULT_RULES["not_reached_subjects"],
        "rank": SCREENING_RANK[DEFAULT_RULES["screening_level"]],
        "school_kind": OrganizationKind.SCHOOL.value,
        "all": schools is None,
        "schools": [str(s.pk) for s in schools or ()],
        "enrolled": EnrolmentStatus.ENROLLED.value,
        "since": today - timedelta(days=30),
        "r_days": REASONS["days"],
        "r_share": REASONS["share"],
        "r_basic": REASONS["basic"],
        "r_screening": REASONS["screening"],
        "r_composite": REASONS["composite"],
        "not_reached": "not_reached",
        "d_attendance": IndicatorKind.ATTENDANCE.value,
        "d_basic": IndicatorKind.BASIC_LEARNING.value,
        "d_screening": IndicatorKind.SCREENING.value,
        "suicide": SCREENING_RANK[ScreeningLevel.SUICIDE_RISK],
        "priority": SCREENING_RANK[ScreeningLevel.PRIORITY],
        "urgent": FlagSeverity.URGENT.value,
        "concern": FlagSeverity.CONCERN.value,
        "watch": FlagSeverity.WATCH.value,
        "finished": [str(s) for s in FINISHED_STATUSES],
        "concern_open": Concern.Status.OPEN.value,
        "open": FlagStatus.OPEN.value,
        "covered": FlagStatus.COVERED.value,
        "dismissed": FlagStatus.DISMISSED.value,
        "raised": FlagStatus.RAISED.value,
    }


def _crossings_sql() -> str:
    rank = partial(RANK_SQL.format)
    return CROSSINGS_SQL.format(
        sr_rank=rank(column="sr.screening_level"),
        r1_rank=rank(column="r1.screening_level"),
        r2_rank=rank(column="r2.screening_level"),
        r3_rank=rank(column="r3.screening_level"),
        s_rank=rank(column="s.level"),
    )


def evaluate(*, schools: list[Organization] | None = None, by: User | None = None, today=None):
    """Judge the indicators of `schools` (every school when None) against the rules in force, in
    set-based SQL: a student crossing a rule gets an open flag with its reasons, or a flag
    covered by their open case or concern; a current flag is brought up to date; a dismissed one
    re-opens only when newer evidence crosses a rule. The counts of flags created and changed."""
    today = today or timezone.localdate()
    params = _params(schools, today)
    with transaction.atomic(), connection.cursor() as cursor:
        # Flags of one student must not be written by two evaluations at once.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('casework.discovery.evaluate'))")
        cursor.execute(_crossings_sql(), params)
        cursor.execute(REFRESH_SQL, params)
        changed = [row[0] for row in cursor.fetchall()]
        cursor.execute(INSERT_SQL, params)
        created = [row[0] for row in cursor.fetchall()]
        cursor.execute("DROP TABLE discovery_crossing")
        insert_history(DiscoveryFlag, changed, kind="~", by=by, reason=EVALUATION_REASON)
        insert_history(DiscoveryFlag, created, kind="+", by=by, reason=EVALUATION_REASON)
    return {"created": len(created), "changed": len(changed)}
