"""The files of exports (DESIGN.md §10), made in the worker for the person who asked: what goes
in is what the same person sees on the pages, read through the same selectors — a case summary
leaves out the restricted notes they may not read, a referral list names the student only where
they may see the case. Every file carries the watermark (core/exportfiles.py); making it is an
access event `export` with the reason (casework/workflows/exports.py asks for it)."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from casework import access, selectors
from casework.audit import record_access
from casework.choices import ConsentPurpose, Difficulty, RiskLevel
from casework.models import (
    AccessEvent,
    CaseStatus,
    Intervention,
    Job,
    ReferralKind,
    ReferralStatus,
    SupportPlan,
)
from casework.models.referrals import OPEN_STATUSES
from casework.reports import committee
from core import exportfiles
from partners.models import Organization

PROGRESS_EVERY = 500  # rows between two progress updates of a list export


@dataclass
class Made:
    content: bytes
    file_name: str
    content_type: str
    rows: int


def _day(value) -> str:
    return date_format(value, "DATE_FORMAT") if value else ""


def _moment(value) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""


def mark_of(job: Job) -> str:
    """The watermark of the job's file."""
    user = job.created_by
    return exportfiles.watermark(
        user.get_full_name() or user.get_username(),
        job.organization.name,
        job.created_at,
        job.reason,
    )


def _stamp(job: Job, extension: str) -> str:
    kind = job.result["export"].replace("_", "-")
    return f"ieum-{kind}-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.{extension}"


def _progress(job: Job, done: int) -> None:
    if done % PROGRESS_EVERY == 0:
        Job.objects.filter(pk=job.pk).update(processed=done)  # a counter, kept out of history


def _limited(job: Job, rows, total: int):
    """The rows up to EXPORT_MAX_ROWS, counting progress on the job."""
    job.total = min(total, settings.EXPORT_MAX_ROWS)
    Job.objects.filter(pk=job.pk).update(total=job.total)
    for done, row in enumerate(rows[: settings.EXPORT_MAX_ROWS].iterator(chunk_size=500), 1):
        _progress(job, done)
        yield row


def _log(job: Job, object_type: str, objects, **kwargs) -> None:
    record_access(
        job.created_by,
        AccessEvent.Action.EXPORT,
        object_type,
        objects,
        reason=job.reason,
        **kwargs,
    )


# --- The case list ----------------------------------------------------------------------------


def case_list(job: Job) -> Made:
    params = job.result["params"]
    cases = selectors.case_list(
        job.created_by,
        status=params.get("status"),
        risk_level=params.get("risk_level"),
        difficulty=params.get("difficulty"),
        q=params.get("q"),
        mine=params.get("mine") == "1",
    ).order_by("-updated_at", "pk")
    difficulties = dict(Difficulty.choices)
    header = [
        _("사례 번호"),
        _("학생"),
        _("학년-반-번호"),
        _("학교"),
        _("상태"),
        _("위기 수준"),
        _("어려움 영역"),
        _("담당자"),
        _("개설일"),
        _("최근 수정"),
    ]
    shown = []

    def rows():
        for case in _limited(job, cases, cases.count()):
            shown.append(case.pk)
            student = case.student
            yield [
                case.number,
                student.name,
                f"{student.grade}-{student.class_no}-{student.number}",
                case.owner.name,
                case.get_status_display(),
                case.get_risk_level_display(),
                ", ".join(str(difficulties.get(d, d)) for d in case.difficulties or []),
                case.coordinator.get_full_name() if case.coordinator_id else "",
                _day(case.opened_on),
                _moment(case.updated_at),
            ]

    cover = [(_("조건"), conditions(params)), (_("만든 시각"), _moment(timezone.now()))]
    content, count = exportfiles.xlsx(_("사례 목록"), mark_of(job), cover, header, rows())
    _log(job, "case", shown)
    return Made(content, _stamp(job, "xlsx"), exportfiles.XLSX_TYPE, count)


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def conditions(params: dict) -> str:
    """The conditions of a list export in words, for its cover sheet and its form."""
    statuses = {"open": _("진행 중인 의뢰"), "all": _("전체")}
    labels = {
        "status": (_("상태"), dict(CaseStatus.choices) | dict(ReferralStatus.choices) | statuses),
        "risk_level": (_("위기 수준"), dict(RiskLevel.choices)),
        "difficulty": (_("어려움 영역"), dict(Difficulty.choices)),
        "q": (_("검색어"), {}),
        "mine": (_("내 사례만"), {"1": _("예")}),
        "box": (_("목록"), {"inbox": _("받은 의뢰"), "outbox": _("보낸 의뢰")}),
        "kind": (_("종류"), dict(ReferralKind.choices)),
        "office": (_("보고 기관"), {}),
        "half": (_("반기"), {}),
        "format": (_("파일 형식"), {"xlsx": _("엑셀 (XLSX)"), "pdf": "PDF"}),
    }
    parts = []
    for name, value in params.items():
        if name == "office":  # the committee report's office, by its name
            value = (
                Organization.objects.filter(pk=value).values_list("name", flat=True).first()
                if _is_uuid(value)
                else None
            ) or value
        label, choices = labels.get(name, (name, {}))
        values = [str(choices.get(v, v)) for v in str(value).split(",")]
        parts.append(f"{label}: {', '.join(values)}")
    return " · ".join(parts) or _("조건 없음 (볼 수 있는 전체)")


# --- A referral list --------------------------------------------------------------------------


def referral_list(job: Job) -> Made:
    params = job.result["params"]
    status = params.get("status", "open")
    statuses = OPEN_STATUSES if status == "open" else None if status == "all" else [status]
    referrals = selectors.referral_list(
        job.created_by,
        box=params.get("box", "inbox"),
        statuses=statuses,
        kind=params.get("kind"),
        shows=("case__student",),
    )
    header = [
        _("의뢰 번호"),
        _("종류"),
        _("보낸 기관"),
        _("받는 기관"),
        _("상태"),
        _("요청일"),
        _("회신 기한"),
        _("학생"),
    ]
    rows_seen = list(_limited(job, referrals, referrals.count()))
    full = access.visible_case_ids(job.created_by, {r.case_id for r in rows_seen})
    rows = [
        [
            r.number,
            r.get_kind_display(),
            r.from_organization.name,
            r.to_organization.name,
            r.get_status_display(),
            _day(timezone.localtime(r.created_at).date()),
            _day(r.respond_by),
            r.case.student.name if r.case_id in full else _("(제공 정보에서 확인)"),
        ]
        for r in rows_seen
    ]
    cover = [(_("조건"), conditions(params)), (_("만든 시각"), _moment(timezone.now()))]
    content, count = exportfiles.xlsx(_("의뢰 목록"), mark_of(job), cover, header, rows)
    _log(job, "referral", [r.pk for r in rows_seen])
    return Made(content, _stamp(job, "xlsx"), exportfiles.XLSX_TYPE, count)


# --- A case summary ---------------------------------------------------------------------------


def case_summary(job: Job) -> Made:
    from core.pdf import render_pdf  # the layout engine loads only where a PDF is made

    user = job.created_by
    case = selectors.case_detail(user, job.result["params"]["case"])  # DoesNotExist: refused
    interventions = Intervention.objects.select_related("service", "provider_organization")
    plans = list(
        SupportPlan.objects.filter(case=case)
        .select_related("approved_by")
        .prefetch_related(Prefetch("interventions", queryset=interventions))
        .order_by("sequence")
    )
    notes = list(access.visible_notes(user, case).select_related("author").order_by("occurred_at"))
    referrals = list(
        access.visible_referrals(user)
        .filter(case=case)
        .select_related("to_organization", "from_organization")
        .order_by("created_at")
    )
    difficulties = dict(Difficulty.choices)
    content = render_pdf(
        "casework/export_case_pdf.html",
        {
            "case": case,
            "difficulties": ", ".join(str(difficulties.get(d, d)) for d in case.difficulties),
            "members": list(case.members.all()),
            "consents": sorted(case.consents.all(), key=lambda c: c.given_on),
            "plans": plans,
            "notes": notes,
            "referrals": referrals,
            "purpose_labels": dict(ConsentPurpose.choices),
            "made_at": timezone.now(),
            "requester": user.get_full_name() or user.get_username(),
            "organization": job.organization.name,
            "reason": job.reason,
        },
        watermark=mark_of(job),
    )
    _log(job, "case", [case], case=case, student=case.student)
    if notes:
        _log(job, "note", notes, case=case, student=case.student)
    return Made(content, _stamp(job, "pdf"), "application/pdf", 1)


# --- The committee report ---------------------------------------------------------------------


def committee_report(job: Job) -> Made:
    """The committee's half-year report (casework/reports/committee.py) as a file, watermarked
    with the requester's reason. The office must still be one they may request."""
    params = job.result["params"]
    offices = access.committee_offices(job.created_by)
    office = offices.filter(pk=params["office"]).first() if offices is not None else None
    if office is None:
        raise Organization.DoesNotExist(params["office"])
    schools = list(access.committee_schools(office).values_list("pk", flat=True))
    today = timezone.localdate()
    data = committee.report(office, schools, committee.Half.parse(params["half"]), today)
    made_at = timezone.now()
    requester = job.created_by.get_full_name() or job.created_by.get_username()
    if params["format"] == "pdf":
        content = committee.pdf_file(data, mark_of(job), made_at, requester)
        content_type = "application/pdf"
    else:
        content = committee.xlsx_file(data, mark_of(job), made_at)
        content_type = exportfiles.XLSX_TYPE
    _log(job, committee.OBJECT_TYPE, [office])
    return Made(content, committee.filename(data, params["format"]), content_type, 1)


BUILDERS = {
    "case_summary": case_summary,
    "case_list": case_list,
    "referral_list": referral_list,
    "report": committee_report,
}


def build(job: Job) -> Made:
    """The job's file, in its requester's language. Case.DoesNotExist when the case is no
    longer theirs to see."""
    with override(job.result.get("language") or settings.LANGUAGE_CODE):
        return BUILDERS[job.result["export"]](job)
