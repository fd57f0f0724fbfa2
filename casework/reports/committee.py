"""The committee report (지역위원회 반기 보고, Act Art. 5-6; API.md: GET /api/v1/reports/committee/;
DESIGN.md §10; docs/reports.md).

For one office and half-year (`YYYYH1` = 1 January-30 June, `YYYYH2` = 1 July-31 December), over
the schools `access.committee_schools` gives (a district office's, or every school of a
provincial office for the 시·도위원회), the figures the committee reads:

- `students`: students with a case opened in the half (`identified`), selected in it
  (`selected`: the case's first selection decision falls in the half) and under support in it
  (`supported`: selected on or before the half's end, the case not ended before it began), in
  total, by domain and by difficulty (a student counts once in each domain or difficulty of
  their case, `none` when it has none, so those rows may add up to more than the total);
  `concerns`: students about whom a concern was raised at those schools in the half.
- `escalations`: escalations to the district office sent in the half, by where they are now
  (the outcomes of the summary: waiting, accepted, completed, declined, cancelled).
- `referrals`: service referrals sent in the half, by the kind of the receiving organisation,
  with the same outcomes, the completion rate (completed / sent) and the median days from
  sending to completion of those completed.
- `overdue`: the referrals sent in the half (escalations and service referrals) whose answer
  (acceptance, decline or cancellation) came after their respond-by date or had not come by
  the half's end (or today, while the half runs): still waiting then, or answered late.
- `trend`: each headline figure for this half and the previous one, with the change.

Counts are suppressed as in the summary (`suppression`): a count from 1 to 4 is `"<5"`, and
every sum a reader can take of the report hides none or at least two cells (complements are
`"x"`). Each half is decided from its own tables alone, so the previous half shows here what its
own report shows. A median of fewer than five is withheld, and so is a rate when either of its
counts is hidden. Two aggregate SQL statements answer the report whatever the number of cases.
"""

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from casework.choices import Difficulty, Domain
from core.replica import reports_database
from partners.choices import EDUCATION_OFFICE_KINDS, PARTNER_KINDS, OrganizationKind

from . import suppression
from .summary import OUTCOME_STATUSES, OUTCOMES

TOTAL = "__total__"
NONE = "none"
MIN_MEDIAN = 5
# What an AccessEvent of a committee report file says (the report names nobody; the file leaves
# the system all the same).
DOWNLOAD_REASON = "위원회 보고"
OBJECT_TYPE = "committee_report"
FORMATS = ("json", "xlsx", "pdf")
STUDENT_FIGURES = ("identified", "selected", "supported")
REFERRAL_FIGURES = ("sent", *OUTCOMES)
OVERDUE_FIGURES = ("overdue", "waiting", "answered_late")
REFERRAL_KINDS = ("escalation", "service")
# The headline figures of the trend, as (table, row, figure) cells.
HEADLINES = {
    "concerns": ("concerns", TOTAL, "students"),
    "identified": ("students", TOTAL, "identified"),
    "selected": ("students", TOTAL, "selected"),
    "supported": ("students", TOTAL, "supported"),
    "escalations": ("escalations", TOTAL, "sent"),
    "referrals": ("referrals", TOTAL, "sent"),
    "referrals_completed": ("referrals", TOTAL, "completed"),
    "overdue": ("overdue", TOTAL, "overdue"),
}
HALF_PATTERN = re.compile(r"^(\d{4})H([12])$")


# --- The half-year ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Half:
    year: int
    part: int  # 1: January-June, 2: July-December

    @classmethod
    def parse(cls, text: str) -> "Half":
        """`2026H1` or `2026H2`; ValueError otherwise."""
        match = HALF_PATTERN.match((text or "").strip())
        if not match or int(match[1]) < 1900:
            raise ValueError(text)
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: datetime.date) -> "Half":
        return cls(day.year, 1 if day.month <= 6 else 2)

    @property
    def code(self) -> str:
        return f"{self.year}H{self.part}"

    @property
    def since(self) -> datetime.date:
        return datetime.date(self.year, 1 if self.part == 1 else 7, 1)

    @property
    def until(self) -> datetime.date:
        return (
            datetime.date(self.year, 6, 30) if self.part == 1 else datetime.date(self.year, 12, 31)
        )

    def previous(self) -> "Half":
        return Half(self.year - 1, 2) if self.part == 1 else Half(self.year, 1)

    def reference_day(self, today: datetime.date) -> datetime.date:
        """The day overdue is judged on: the half's end, or today while the half runs."""
        return min(self.until, today)

    @property
    def label(self) -> str:
        if self.part == 1:
            return _("%(year)s년 상반기") % {"year": self.year}
        return _("%(year)s년 하반기") % {"year": self.year}


# --- SQL -------------------------------------------------------------------------------------

WINDOWS = """win(wkey, ws, we, wref) AS (VALUES
    ('this', %(since)s::date, %(until)s::date, %(ref)s::date),
    ('previous', %(psince)s::date, %(puntil)s::date, %(pref)s::date))"""

LIST = """CROSS JOIN LATERAL jsonb_array_elements_text(
    CASE WHEN jsonb_typeof({field}) = 'array' AND jsonb_array_length({field}) > 0
         THEN {field} ELSE '["none"]'::jsonb END) AS k(v)"""

STUDENT_COUNTS = """count(DISTINCT f.student_id) FILTER (WHERE f.identified),
    count(DISTINCT f.student_id) FILTER (WHERE f.selected),
    count(DISTINCT f.student_id) FILTER (WHERE f.supported)"""

STUDENTS_SQL = f"""
WITH {WINDOWS},
base AS (
  SELECT c.id, c.student_id, c.opened_on, c.domains, c.difficulties,
    (sel.at AT TIME ZONE %(tz)s)::date AS selected_on,
    CASE WHEN c.status = 'closed' THEN c.closed_on
         WHEN c.status = 'not_selected' THEN coalesce(
           (SELECT min(d.decided_at AT TIME ZONE %(tz)s)::date FROM casework_decision d
             WHERE d.case_id = c.id AND d.decision = 'not_select'),
           (c.updated_at AT TIME ZONE %(tz)s)::date)
    END AS ended_on
  FROM casework_case c
  LEFT JOIN LATERAL (SELECT min(d.decided_at) AS at FROM casework_decision d
                      WHERE d.case_id = c.id AND d.decision = 'select') sel ON true
  WHERE c.owner_id = ANY(%(schools)s::uuid[]) AND c.opened_on <= %(until)s
),
f AS (
  SELECT w.wkey, b.student_id, b.domains, b.difficulties,
    b.opened_on BETWEEN w.ws AND w.we AS identified,
    coalesce(b.selected_on BETWEEN w.ws AND w.we, false) AS selected,
    coalesce(b.selected_on <= w.we, false) AS supported
  FROM base b JOIN win w ON b.opened_on <= w.we AND (b.ended_on IS NULL OR b.ended_on >= w.ws)
)
SELECT f.wkey, 'students', '{TOTAL}', {STUDENT_COUNTS} FROM f GROUP BY 1
UNION ALL
SELECT f.wkey, 'domain', k.v, {STUDENT_COUNTS} FROM f {LIST.format(field="f.domains")} GROUP BY 1, 3
UNION ALL
SELECT f.wkey, 'difficulty', k.v, {STUDENT_COUNTS}
  FROM f {LIST.format(field="f.difficulties")} GROUP BY 1, 3
UNION ALL
SELECT w.wkey, 'concerns', '{TOTAL}', count(DISTINCT cn.student_id), 0, 0
  FROM casework_concern cn
  JOIN win w ON (cn.created_at AT TIME ZONE %(tz)s)::date BETWEEN w.ws AND w.we
  WHERE cn.school_id = ANY(%(schools)s::uuid[])
  GROUP BY 1
"""


def _outcome_columns() -> str:
    columns = []
    for outcome in OUTCOMES:
        inside = ", ".join(f"'{s}'" for s in OUTCOME_STATUSES[outcome])
        columns.append(f"count(*) FILTER (WHERE r.status IN ({inside}))")
    return ",\n    ".join(columns)


REFERRALS_SQL = f"""
WITH {WINDOWS},
sent AS (
  SELECT w.wkey, r.kind, r.status, r.respond_by, w.wref,
    CASE WHEN r.kind = 'service' THEN o.kind ELSE '' END AS to_kind,
    (coalesce(r.accepted_at, r.closed_at) AT TIME ZONE %(tz)s)::date AS answered_on,
    extract(epoch FROM r.closed_at - r.sent_at) / 86400 AS days
  FROM casework_referral r
  JOIN casework_case c ON c.id = r.case_id
  JOIN partners_organization o ON o.id = r.to_organization_id
  JOIN win w ON (r.sent_at AT TIME ZONE %(tz)s)::date BETWEEN w.ws AND w.we
  WHERE c.owner_id = ANY(%(schools)s::uuid[]) AND r.sent_at IS NOT NULL
    AND r.kind IN ('escalation', 'service')
),
late AS (
  SELECT r.*,
    r.respond_by < r.wref AND (r.answered_on IS NULL OR r.answered_on > r.respond_by) AS overdue,
    r.answered_on IS NULL OR r.answered_on > r.wref AS unanswered
  FROM sent r
)
SELECT r.wkey, r.kind, CASE WHEN grouping(r.to_kind) = 1 THEN '{TOTAL}' ELSE r.to_kind END,
    count(*),
    {_outcome_columns()},
    count(*) FILTER (WHERE r.overdue AND r.unanswered),
    count(*) FILTER (WHERE r.overdue AND NOT r.unanswered),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY r.days) FILTER (WHERE r.status = 'completed')
FROM late r
GROUP BY GROUPING SETS ((r.wkey, r.kind, r.to_kind), (r.wkey, r.kind))
"""


def queries(schools: list, half: Half, today: datetime.date) -> list[tuple[str, dict]]:
    """The report's statements with their parameters."""
    previous = half.previous()
    params = {
        "since": half.since,
        "until": half.until,
        "ref": half.reference_day(today),
        "psince": previous.since,
        "puntil": previous.until,
        "pref": previous.reference_day(today),
        "tz": settings.TIME_ZONE,
        "schools": [str(pk) for pk in schools],
    }
    return [(STUDENTS_SQL, params), (REFERRALS_SQL, params)]


# --- Counting --------------------------------------------------------------------------------


def referral_kinds() -> list[str]:
    """The rows of the referrals by partner type: the partners' kinds, then the offices'."""
    return [str(k) for k in (*PARTNER_KINDS, *EDUCATION_OFFICE_KINDS)]


@dataclass
class Tables:
    """One half's counts before suppression: cells (table, row, figure) → count, the median
    days to completion by referral row, and the rows of the referrals by partner type."""

    counts: dict
    medians: dict
    kinds: list


def _empty(kinds: list) -> dict:
    counts = {("concerns", TOTAL, "students"): 0}
    rows = [TOTAL, *(f"domain.{d}" for d in (*Domain.values, NONE))]
    rows += [f"difficulty.{d}" for d in (*Difficulty.values, NONE)]
    for row in rows:
        for name in STUDENT_FIGURES:
            counts[("students", row, name)] = 0
    for name in REFERRAL_FIGURES:
        counts[("escalations", TOTAL, name)] = 0
        for row in (*kinds, TOTAL):
            counts[("referrals", row, name)] = 0
    for row in (*REFERRAL_KINDS, TOTAL):
        for name in OVERDUE_FIGURES:
            counts[("overdue", row, name)] = 0
    return counts


def count(schools: list, half: Half, today: datetime.date | None = None) -> dict[str, Tables]:
    """The exact counts of `half` ("this") and of the half before it ("previous") for the
    schools (ids from `access.committee_schools`): two SQL statements."""
    today = today or timezone.localdate()
    (students_sql, params), (referrals_sql, _params) = queries(schools, half, today)
    with connections[reports_database()].cursor() as cursor:
        cursor.execute(students_sql, params)
        student_rows = cursor.fetchall()
        cursor.execute(referrals_sql, params)
        referral_rows = cursor.fetchall()
    found_kinds = {row[2] for row in referral_rows if row[1] == "service" and row[2] != TOTAL}
    kinds = referral_kinds()
    kinds += sorted(k for k in found_kinds if k not in kinds)
    tables = {key: Tables(_empty(kinds), {}, kinds) for key in ("this", "previous")}
    for wkey, group, key, identified, selected, supported in student_rows:
        counts = tables[wkey].counts
        if group == "concerns":
            counts[("concerns", TOTAL, "students")] = identified
            continue
        row = TOTAL if group == "students" else f"{group}.{key}"
        for name, n in zip(STUDENT_FIGURES, (identified, selected, supported), strict=True):
            counts[("students", row, name)] = n
    for wkey, kind, key, sent, *rest in referral_rows:
        outcomes, (waiting, late, median) = rest[: len(OUTCOMES)], rest[len(OUTCOMES) :]
        counts = tables[wkey].counts
        if key == TOTAL:
            counts[("overdue", kind, "overdue")] = waiting + late
            counts[("overdue", kind, "waiting")] = waiting
            counts[("overdue", kind, "answered_late")] = late
        table = "escalations" if kind == "escalation" else "referrals"
        if kind == "escalation" and key != TOTAL:
            continue
        counts[(table, key, "sent")] = sent
        for name, n in zip(OUTCOMES, outcomes, strict=True):
            counts[(table, key, name)] = n
        if kind == "service":
            tables[wkey].medians[key] = (median, outcomes[OUTCOMES.index("completed")])
    for tables_of in tables.values():
        counts = tables_of.counts
        for name in OVERDUE_FIGURES:
            counts[("overdue", TOTAL, name)] = sum(
                counts[("overdue", k, name)] for k in REFERRAL_KINDS
            )
    return tables


# --- What a reader could add up --------------------------------------------------------------


def lines(kinds: list) -> list[suppression.Line]:
    """Every sum a reader can take of one half's tables:

    - students: the domains add up to the total, and so do the difficulties, for each figure
      (counted as if they did, though a student may sit in several rows);
    - escalations: the outcomes add up to those sent;
    - referrals: in each row (and the total) the outcomes add up to those sent, and down each
      column the partner types add up to the total;
    - overdue: in each row still waiting + answered late = overdue, and down each column the
      escalations and service referrals add up to the total.
    """
    result = []
    for name in STUDENT_FIGURES:
        for group, codes in (("domain", Domain.values), ("difficulty", Difficulty.values)):
            parts = tuple(("students", f"{group}.{code}", name) for code in (*codes, NONE))
            result.append(suppression.Line(parts, total=("students", TOTAL, name)))
    outcomes = tuple(("escalations", TOTAL, o) for o in OUTCOMES)
    result.append(suppression.Line(outcomes, total=("escalations", TOTAL, "sent")))
    for row in (*kinds, TOTAL):
        parts = tuple(("referrals", row, o) for o in OUTCOMES)
        result.append(suppression.Line(parts, total=("referrals", row, "sent")))
    for name in REFERRAL_FIGURES:
        parts = tuple(("referrals", row, name) for row in kinds)
        result.append(suppression.Line(parts, total=("referrals", TOTAL, name)))
    for row in (*REFERRAL_KINDS, TOTAL):
        parts = (("overdue", row, "waiting"), ("overdue", row, "answered_late"))
        result.append(suppression.Line(parts, total=("overdue", row, "overdue")))
    for name in OVERDUE_FIGURES:
        parts = tuple(("overdue", row, name) for row in REFERRAL_KINDS)
        result.append(suppression.Line(parts, total=("overdue", TOTAL, name)))
    return result


def totals(counts: dict) -> list:
    """The cells a half's totals are: decided from their own sums first, never taken as
    complements for the rows below them."""
    return [key for key in counts if key[1] == TOTAL and key[0] != "escalations"] + [
        ("escalations", TOTAL, "sent")
    ]


def hide(tables: Tables) -> set:
    return suppression.suppress_table(
        tables.counts, lines(tables.kinds), totals=totals(tables.counts)
    )


# --- The report ------------------------------------------------------------------------------


def _median(value, n: int):
    if value is None or n < MIN_MEDIAN:
        return None
    return round(float(value), 1)


def _rate(completed, sent):
    if not isinstance(completed, int) or not isinstance(sent, int) or not sent:
        return None
    return round(100 * completed / sent, 1)


def _change(this, previous):
    if isinstance(this, int | float) and isinstance(previous, int | float):
        return round(this - previous, 1) if isinstance(this, float) else this - previous
    return None


def outcome_labels() -> dict[str, str]:
    return {
        "waiting": _("회신 대기"),
        "accepted": _("수락·진행"),
        "completed": _("완료"),
        "declined": _("거절"),
        "cancelled": _("취소"),
    }


def figure_labels() -> dict[str, str]:
    return {
        "identified": _("발굴"),
        "selected": _("선정"),
        "supported": _("지원"),
        "sent": _("의뢰"),
        **outcome_labels(),
        "overdue": _("기한 경과"),
        "answered_late": _("기한 후 회신"),
        "unanswered": _("미회신"),
        "completion_rate": _("완료율(%)"),
        "median_days_to_completion": _("완료까지 일수(중앙값)"),
    }


def headline_labels() -> dict[str, str]:
    return {
        "concerns": _("지원 요청 학생"),
        "identified": _("발굴 학생"),
        "selected": _("선정 학생"),
        "supported": _("지원 학생"),
        "escalations": _("교육지원청 요청"),
        "referrals": _("서비스 의뢰"),
        "referrals_completed": _("서비스 의뢰 완료"),
        "overdue": _("회신 기한 경과"),
        "completion_rate": _("서비스 의뢰 완료율(%)"),
        "median_days_to_completion": _("의뢰부터 완료까지 일수(중앙값)"),
    }


def kind_labels() -> dict[str, str]:
    return {
        **{c.value: str(c.label) for c in OrganizationKind},
        TOTAL: _("합계"),
        "escalation": _("교육지원청 요청"),
        "service": _("서비스 의뢰"),
    }


@dataclass
class Shown:
    """One half as shown: the cells after suppression, the medians and rates that may be
    shown, and whether anything is hidden."""

    cells: dict
    medians: dict
    rates: dict
    suppressed: bool


def shown_half(tables: Tables) -> Shown:
    hidden = hide(tables)
    cells = suppression.apply(tables.counts, hidden)
    medians = {row: _median(value, n) for row, (value, n) in tables.medians.items()}
    rates = {
        row: _rate(cells[("referrals", row, "completed")], cells[("referrals", row, "sent")])
        for row in (*tables.kinds, TOTAL)
    }
    return Shown(cells, medians, rates, bool(hidden))


def _headlines(shown: Shown) -> dict:
    values = {name: shown.cells[cell] for name, cell in HEADLINES.items()}
    values["completion_rate"] = shown.rates[TOTAL]
    values["median_days_to_completion"] = shown.medians.get(TOTAL)
    return values


def report(office, schools: list, half: Half, today: datetime.date | None = None) -> dict:
    """The report as the API answers it (JSON): this half's tables and the trend against the
    previous half, small cells suppressed."""
    today = today or timezone.localdate()
    tables = count(schools, half, today)
    this, previous = shown_half(tables["this"]), shown_half(tables["previous"])
    cells = this.cells
    kinds, labels = tables["this"].kinds, kind_labels()

    def students(row: str, key: str, label: str) -> dict:
        return {
            "key": key,
            "label": label,
            **{name: cells[("students", row, name)] for name in STUDENT_FIGURES},
        }

    def referral_row(row: str) -> dict:
        return {
            "key": "total" if row == TOTAL else row,
            "label": labels.get(row, row),
            "sent": cells[("referrals", row, "sent")],
            "by_outcome": {o: cells[("referrals", row, o)] for o in OUTCOMES},
            "completion_rate": this.rates[row],
            "median_days_to_completion": this.medians.get(row),
        }

    def overdue_row(row: str) -> dict:
        return {
            "key": "total" if row == TOTAL else row,
            "label": labels[row],
            **{name: cells[("overdue", row, name)] for name in OVERDUE_FIGURES},
        }

    domain_labels = {**{c.value: str(c.label) for c in Domain}, NONE: _("지원 영역 미지정")}
    difficulty_labels = {
        **{c.value: str(c.label) for c in Difficulty},
        NONE: _("어려움 유형 미지정"),
    }
    now, before = _headlines(this), _headlines(previous)
    names = headline_labels()
    previous_half = half.previous()
    return {
        "office": {"id": str(office.pk), "name": office.name, "kind": office.kind},
        "half": half.code,
        "label": half.label,
        "since": half.since.isoformat(),
        "until": half.until.isoformat(),
        "overdue_on": half.reference_day(today).isoformat(),
        "previous": {
            "half": previous_half.code,
            "label": previous_half.label,
            "since": previous_half.since.isoformat(),
            "until": previous_half.until.isoformat(),
        },
        "schools": len(schools),
        "concerns": cells[("concerns", TOTAL, "students")],
        "students": {
            "total": {name: cells[("students", TOTAL, name)] for name in STUDENT_FIGURES},
            "by_domain": [
                students(f"domain.{code}", code, label) for code, label in domain_labels.items()
            ],
            "by_difficulty": [
                students(f"difficulty.{code}", code, label)
                for code, label in difficulty_labels.items()
            ],
        },
        "escalations": {
            "sent": cells[("escalations", TOTAL, "sent")],
            "by_outcome": {o: cells[("escalations", TOTAL, o)] for o in OUTCOMES},
        },
        "referrals": {
            "rows": [referral_row(row) for row in kinds],
            "total": referral_row(TOTAL),
        },
        "overdue": {
            "rows": [overdue_row(row) for row in REFERRAL_KINDS],
            "total": overdue_row(TOTAL),
        },
        "trend": [
            {
                "key": name,
                "label": names[name],
                "this": now[name],
                "previous": before[name],
                "change": _change(now[name], before[name]),
            }
            for name in names
        ],
        "suppressed": this.suppressed or previous.suppressed,
    }


# --- Files -----------------------------------------------------------------------------------


def korean_date(day: datetime.date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def title(data: dict) -> str:
    return _("지역위원회 반기 보고 — %(office)s %(half)s") % {
        "office": data["office"]["name"],
        "half": data["label"],
    }


def _period(since: str, until: str) -> str:
    first, last = datetime.date.fromisoformat(since), datetime.date.fromisoformat(until)
    return f"{korean_date(first)} – {korean_date(last)}"


def sections(data: dict) -> list[dict]:
    """The report as titled tables (header, rows), the same for the PDF and the workbook."""
    figures = figure_labels()
    outcomes = outcome_labels()
    headlines = headline_labels()
    students = data["students"]
    student_header = [_("구분"), *(figures[n] for n in STUDENT_FIGURES)]

    def student_rows(rows):
        return [[row["label"], *(row[n] for n in STUDENT_FIGURES)] for row in rows]

    referral_header = [
        _("받는 기관 유형"),
        figures["sent"],
        *(outcomes[o] for o in OUTCOMES),
        figures["completion_rate"],
        figures["median_days_to_completion"],
    ]

    def referral_rows(rows):
        return [
            [
                row["label"],
                row["sent"],
                *(row["by_outcome"][o] for o in OUTCOMES),
                _blank(row["completion_rate"]),
                _blank(row["median_days_to_completion"]),
            ]
            for row in rows
        ]

    overdue_header = [
        _("종류"),
        figures["overdue"],
        figures["unanswered"],
        figures["answered_late"],
    ]
    escalations = data["escalations"]
    return [
        {
            "title": _("학생 발굴·선정·지원"),
            "header": [_("구분"), _("학생 수")],
            "rows": [
                [headlines["concerns"], data["concerns"]],
                *([headlines[n], students["total"][n]] for n in STUDENT_FIGURES),
            ],
        },
        {
            "title": _("지원 영역별 학생"),
            "header": student_header,
            "rows": student_rows(students["by_domain"]),
        },
        {
            "title": _("어려움 유형별 학생"),
            "header": student_header,
            "rows": student_rows(students["by_difficulty"]),
        },
        {
            "title": _("교육지원청 요청과 결정"),
            "header": [_("구분"), figures["sent"], *(outcomes[o] for o in OUTCOMES)],
            "rows": [
                [
                    _("교육지원청 요청"),
                    escalations["sent"],
                    *(escalations["by_outcome"][o] for o in OUTCOMES),
                ]
            ],
        },
        {
            "title": _("받는 기관 유형별 서비스 의뢰"),
            "header": referral_header,
            "rows": referral_rows([*data["referrals"]["rows"], data["referrals"]["total"]]),
        },
        {
            "title": _("회신 기한이 지난 의뢰"),
            "header": overdue_header,
            "rows": [
                [row["label"], row["overdue"], row["waiting"], row["answered_late"]]
                for row in [*data["overdue"]["rows"], data["overdue"]["total"]]
            ],
        },
        {
            "title": _("지난 반기와 비교"),
            "header": [_("지표"), data["label"], data["previous"]["label"], _("증감")],
            "rows": [
                [row["label"], _blank(row["this"]), _blank(row["previous"]), _blank(row["change"])]
                for row in data["trend"]
            ],
        },
    ]


def _blank(value):
    """A withheld median, rate or change shows as "-"."""
    return "-" if value is None else value


def notes(data: dict) -> list[str]:
    return [
        _(
            '1~4명(건)은 "<5"로, 합계로 알아낼 수 없도록 함께 가린 칸은 "x"(5 이상)로 '
            '표시했습니다. 5건 미만의 중앙값과 가린 칸이 들어간 비율은 "-"로 표시했습니다.'
        ),
        _("의뢰 결과는 작성 시점의 상태이며, 회신 기한 경과는 %(day)s 기준입니다.")
        % {"day": korean_date(datetime.date.fromisoformat(data["overdue_on"]))},
    ]


def cover(data: dict, produced_at: datetime.datetime) -> list[tuple[str, str]]:
    return [
        (_("기관"), data["office"]["name"]),
        (_("반기"), f"{data['label']} ({_period(data['since'], data['until'])})"),
        (
            _("비교 반기"),
            f"{data['previous']['label']} "
            f"({_period(data['previous']['since'], data['previous']['until'])})",
        ),
        (_("대상 학교 수"), str(data["schools"])),
        (_("작성일"), korean_date(timezone.localtime(produced_at).date())),
        *((_("참고"), note) for note in notes(data)),
    ]


def long_rows(data: dict) -> list[list]:
    """Every figure of the tables as one row (table, row, figure, value): one header serves
    the whole workbook, and a reader can filter and pivot it."""
    rows = []
    for section in sections(data):
        for row in section["rows"]:
            for name, value in zip(section["header"][1:], row[1:], strict=True):
                if value != "":
                    rows.append([section["title"], row[0], name, value])
    return rows


def xlsx_file(data: dict, mark: str, produced_at: datetime.datetime) -> bytes:
    """The report as a workbook (core.exportfiles.xlsx): the cover sheet, then the figures,
    the watermark in each sheet's header and footer."""
    from core import exportfiles

    header = [_("표"), _("구분"), _("지표"), _("값")]
    content, _rows = exportfiles.xlsx(
        title(data), mark, cover(data, produced_at), header, long_rows(data)
    )
    return content


def pdf_file(data: dict, mark: str, produced_at: datetime.datetime, requester: str) -> bytes:
    """The report as a Korean PDF (core.pdf: fonts embedded, the watermark on every page)."""
    from core.pdf import render_pdf

    return render_pdf(
        "casework/reports/committee_pdf.html",
        {
            "report": data,
            "title": title(data),
            "sections": sections(data),
            "notes": notes(data),
            "since": datetime.date.fromisoformat(data["since"]),
            "until": datetime.date.fromisoformat(data["until"]),
            "produced_at": produced_at,
            "requester": requester,
        },
        watermark=mark,
    )


def filename(data: dict, extension: str) -> str:
    return f"committee-{data['half']}-{data['office']['id'][:8]}.{extension}"


__all__ = [
    "DOWNLOAD_REASON",
    "FORMATS",
    "OBJECT_TYPE",
    "TOTAL",
    "Half",
    "Tables",
    "count",
    "hide",
    "lines",
    "pdf_file",
    "queries",
    "report",
    "sections",
    "xlsx_file",
]
