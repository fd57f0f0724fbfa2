"""Exports (DESIGN.md §10): someone who works cases asks for a file — a case summary (PDF), the
case list or a referral list (XLSX) — with a stated reason; a job makes it (casework/exporting.py,
in the worker), the requester fetches it while it lasts, and after EXPORT_TTL_HOURS the file is
destroyed with a record in the destruction register.

The reason is required: it is printed on every page or sheet of the file and written into the
access event of the export and of every download."""

import datetime
import logging
import re
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _

from casework import access, audit
from casework.choices import Difficulty, RiskLevel
from casework.models import (
    AccessEvent,
    CaseStatus,
    DestructionRecord,
    Job,
    ReferralKind,
    ReferralStatus,
)
from casework.queue import publish
from partners.models import User

from .common import attribute
from .errors import GuardFailed, WorkflowError

logger = logging.getLogger(__name__)

EXPORT_TASK = "casework.tasks.build_export"  # enqueued by name (casework.queue)
REASON_MAX = 500
KINDS = ("case_summary", "case_list", "referral_list", "report")
HALF = re.compile(r"^(\d{4})H([12])$")
REPORT_FORMATS = ("xlsx", "pdf")
KIND_LABELS = {
    "case_summary": gettext_lazy("사례 요약 (PDF)"),
    "case_list": gettext_lazy("사례 목록 (XLSX)"),
    "referral_list": gettext_lazy("의뢰 목록 (XLSX)"),
    "report": gettext_lazy("위원회 반기 보고"),
}


class FileGone(WorkflowError):
    """The export's file has expired and was destroyed (HTTP 410)."""


def _one_of(params: dict, name: str, allowed, *, many: bool = False) -> str | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationError({"params": [_("%(name)s: 글자로 적어야 합니다.") % {"name": name}]})
    values = value.split(",") if many else [value]
    if any(v not in allowed for v in values):
        raise ValidationError({"params": [_("%(name)s: 알 수 없는 값입니다.") % {"name": name}]})
    return value


def clean_params(user: User, kind: str, params) -> tuple[dict, object]:
    """The parameters of an export of `kind`, checked (400 otherwise), and the case it is about
    (None for lists). A case the requester cannot see is refused like a missing one."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationError({"params": [_("조건 형식이 올바르지 않습니다.")]})
    if kind == "case_summary":
        case_id = params.get("case")
        if set(params) - {"case"} or not isinstance(case_id, str) or not _is_uuid(case_id):
            raise ValidationError({"params": [_("case: 사례 ID를 적어야 합니다.")]})
        case = access.get_visible_case_or_404(user, case_id)  # invisible: 404 like a missing one
        return {"case": str(case.pk)}, case
    if kind == "case_list":
        allowed = {"status", "risk_level", "difficulty", "q", "mine"}
        if set(params) - allowed:
            raise ValidationError({"params": [_("사례 목록에 없는 조건입니다.")]})
        q = params.get("q")
        if q is not None and (not isinstance(q, str) or len(q) > 100):
            raise ValidationError({"params": [_("검색어는 100자까지 적을 수 있습니다.")]})
        cleaned = {
            "status": _one_of(params, "status", CaseStatus.values, many=True),
            "risk_level": _one_of(params, "risk_level", RiskLevel.values, many=True),
            "difficulty": _one_of(params, "difficulty", Difficulty.values),
            "q": (q or "").strip() or None,
            "mine": _one_of(params, "mine", {"1", "0"}),
        }
        return {k: v for k, v in cleaned.items() if v}, None
    if kind == "referral_list":
        allowed = {"box", "status", "kind"}
        if set(params) - allowed:
            raise ValidationError({"params": [_("의뢰 목록에 없는 조건입니다.")]})
        cleaned = {
            "box": _one_of(params, "box", {"inbox", "outbox"}) or "inbox",
            "status": _one_of(params, "status", {"open", "all", *ReferralStatus.values}),
            "kind": _one_of(params, "kind", ReferralKind.values),
        }
        return {k: v for k, v in cleaned.items() if v}, None
    if kind == "report":
        return _report_params(user, params), None
    raise ValidationError({"kind": [_("내보낼 수 없는 종류입니다.")]})


def _report_params(user: User, params: dict) -> dict:
    """The committee report's office (one the user may request), half-year and file format."""
    if set(params) - {"office", "half", "format"}:
        raise ValidationError({"params": [_("위원회 보고에 없는 조건입니다.")]})
    offices = access.committee_offices(user)
    wanted = params.get("office")
    office = None
    if offices is not None and isinstance(wanted, str) and _is_uuid(wanted):
        office = offices.filter(pk=wanted).first()
    if office is None:
        raise ValidationError({"params": [_("위원회 보고를 만들 수 있는 기관이 아닙니다.")]})
    half = params.get("half")
    found = HALF.match(half) if isinstance(half, str) else None
    if not found or int(found[1]) < 2000:
        raise ValidationError({"params": [_("반기는 2026H1, 2026H2처럼 적어 주세요.")]})
    since = datetime.date(int(found[1]), 1 if found[2] == "1" else 7, 1)
    if since > timezone.localdate():
        raise ValidationError({"params": [_("아직 시작하지 않은 반기입니다.")]})
    file_format = params.get("format", "xlsx")
    if file_format not in REPORT_FORMATS:
        raise ValidationError({"params": [_("파일 형식은 xlsx나 pdf로 적어 주세요.")]})
    return {"office": str(office.pk), "half": half, "format": file_format}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def clean_reason(reason) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationError({"reason": [_("내보내는 사유를 적으세요.")]})
    if len(text) > REASON_MAX:
        raise ValidationError(
            {"reason": [_("사유는 %(n)d자까지 적을 수 있습니다.") % {"n": REASON_MAX}]}
        )
    return text


def request_export(*, by: User, kind: str, params, reason) -> Job:
    """Queue an export of `kind` for `by`; its file is made by the worker (at once where Celery
    runs eagerly). A missing reason, an unknown kind or bad parameters are 400 (ValidationError),
    a case the requester cannot see 404, someone with no current membership 403. A publish that
    fails leaves the job queued for the stale-job sweep."""
    errors = {}
    if kind not in KINDS:
        errors["kind"] = [_("내보낼 수 없는 종류입니다.")]
    try:
        reason = clean_reason(reason)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    params, case = clean_params(by, kind, params)
    organization = access.export_organization(by, case)
    if organization is None:  # a file names the organisation it was made for
        raise PermissionDenied(_("소속 기관이 있어야 내보낼 수 있습니다."))
    job = Job(
        kind=Job.Kind.EXPORT,
        created_by=by,
        organization=organization,
        reason=reason,
        # The file is made in the requester's language, whoever's worker makes it.
        result={"export": kind, "params": params, "language": get_language()},
    )
    attribute(job, by, gettext_noop("내보내기 요청"))
    job.save()
    # The worker must find the job committed before it starts.
    transaction.on_commit(partial(_publish, job.pk), robust=True)
    return job


def _publish(job_id) -> None:
    # The broker is away: the job stays queued and the job sweep publishes it again.
    publish(EXPORT_TASK, [str(job_id)])


def export_kind_label(job: Job) -> str:
    return str(KIND_LABELS.get((job.result or {}).get("export"), job.get_kind_display()))


def is_expired(job: Job, *, now=None) -> bool:
    """Whether the job's file is gone, or past its time and about to be."""
    if job.status != Job.Status.SUCCEEDED:
        return False
    if job.result.get("expired"):
        return True
    return job.expires_at is not None and job.expires_at <= (now or timezone.now())


def is_downloadable(job: Job, *, now=None) -> bool:
    """Whether the export's file is ready and not expired."""
    return (
        job.kind == Job.Kind.EXPORT
        and job.status == Job.Status.SUCCEEDED
        and not is_expired(job, now=now)
    )


def download_export(job: Job, *, by: User, request=None) -> tuple[bytes, str, str]:
    """The file of `job` for its requester, who may download it (casework.access): its bytes,
    name and content type. Each download is an access event `download` with the export's
    reason. FileGone once it has expired; GuardFailed while it is not ready (or failed)."""
    if is_expired(job):
        raise FileGone(
            _(
                "보관 기간(%(hours)d시간)이 지나 파일을 파기했습니다. 필요하면 다시 내보내기를 요청해 주세요."
            )
            % {"hours": settings.EXPORT_TTL_HOURS}
        )
    if job.status == Job.Status.FAILED:
        raise GuardFailed(_("파일을 만들지 못한 내보내기입니다. 다시 요청해 주세요."))
    if job.status != Job.Status.SUCCEEDED or job.payload is None:
        raise GuardFailed(_("파일을 아직 만들고 있습니다. 잠시 뒤 다시 시도해 주세요."))
    case_id = job.result.get("params", {}).get("case")
    case = access.visible_cases(by).filter(pk=case_id).select_related("student").first()
    audit.record_access(
        by,
        AccessEvent.Action.DOWNLOAD,
        "export",
        [job],
        case=case,
        student=case.student if case else None,
        request=request,
        reason=job.reason,
    )
    content_type = job.result.get("content_type") or "application/octet-stream"
    return bytes(job.payload), job.file_name, content_type


def _still_running(job: Job) -> bool:
    """Lock the job and tell whether it is still this worker's: the stale-job sweep may have
    failed it meanwhile (its message stands; no file is kept for a failed job)."""
    status = Job.objects.select_for_update().filter(pk=job.pk).values_list("status", flat=True)
    return status.first() == Job.Status.RUNNING


@transaction.atomic
def finish_export(job: Job, *, content: bytes, file_name: str, content_type: str, rows: int):
    """Keep the made file on the job until it expires."""
    if not _still_running(job):
        job.refresh_from_db()
        return
    job.payload = content
    job.status = Job.Status.SUCCEEDED
    job.file_name = file_name
    job.total = job.processed = max(rows, 1)
    job.result = {**job.result, "content_type": content_type, "rows": rows, "size": len(content)}
    job.finished_at = timezone.now()
    job.expires_at = job.finished_at + timedelta(hours=settings.EXPORT_TTL_HOURS)
    attribute(job, job.created_by, gettext_noop("내보내기 완료"))
    job.save()


@transaction.atomic
def fail_export(job: Job, message: str) -> None:
    if not _still_running(job):
        job.refresh_from_db()
        return
    job.status = Job.Status.FAILED
    job.errors = [{"row": None, "field": "", "message": str(message)}]
    job.finished_at = timezone.now()
    attribute(job, job.created_by, gettext_noop("내보내기 실패"))
    job.save(update_fields=["status", "errors", "finished_at"])


def expire_exports(*, now=None) -> int:
    """Destroy the files of exports past their time, each with a destruction record; the count."""
    now = now or timezone.now()
    destroyed = 0
    due = Job.objects.filter(kind=Job.Kind.EXPORT, payload__isnull=False, expires_at__lte=now)
    for job_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            job = (
                Job.objects.select_for_update()
                .filter(pk=job_id, payload__isnull=False, expires_at__lte=now)
                .first()
            )
            if job is None:
                continue  # another sweep took it
            job.payload = None
            job.result = {**job.result, "expired": True}
            attribute(job, None, gettext_noop("보관 기간 경과로 파일 파기"))
            job.save(update_fields=["payload", "result"])
            record = DestructionRecord(
                object_type="export",
                object_id=job.pk,
                object_label=job.file_name[:100],
                parts=["file"],
                rule=DestructionRecord.Rule.EXPORT_EXPIRY,
                rule_detail=f"EXPORT_TTL_HOURS={settings.EXPORT_TTL_HOURS}",
                due_on=timezone.localtime(job.expires_at).date(),
                destroyed_at=now,
            )
            attribute(record, None, gettext_noop("파기 대장 기록"))
            record.save()
            destroyed += 1
    return destroyed
