"""The monthly access-log review (PIPA safeguards 8조, DESIGN.md §9).

For one provincial office and one month, the review reads the access events of the
organisations under the office (`access.access_events_about`) and turns them into findings,
one per kind and person, each with the events behind it:

- `after_hours`: events outside ACCESS_REVIEW_WORK_HOURS on a business day, or on a weekend or
  Korean public holiday;
- `volume`: a person's events of the month above ACCESS_REVIEW_VOLUME_FACTOR times both their own
  monthly average over the previous ACCESS_REVIEW_BASELINE_MONTHS and the median of the people
  of the same role that month (and at least ACCESS_REVIEW_VOLUME_MIN events);
- `break_glass`: every break-glass opening and read;
- `export`: every export, download and print, with its reasons;
- `after_membership_end`: events made through a membership that had ended, or whose approval had
  lapsed, on the day of the event;
- `unapproved_handler`: events made through a membership without a data-handling approval on
  that day, or whose security training had lapsed;
- `outside_caseload`: reads of a case by someone whose work is not every case of their
  organisation and who was not on the case's team (`access.outside_caseload`).

The privacy officer then asks the person concerned for an explanation (소명), the person answers
from their notifications, and the officer closes the finding with a resolution; once every
finding is closed the review is done. A review can be built again, findings replaced, until its
first question is asked.
"""

import logging
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractMinute, TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from simple_history.utils import bulk_create_with_history

from casework import access
from casework.deadlines import is_business_day
from casework.models import AccessEvent, AccessReview, Job, ReviewFinding
from casework.notify import notify
from casework.queue import publish
from partners.choices import OrganizationKind
from partners.models import Membership, Organization, User

from .common import attribute, save
from .errors import GuardFailed

logger = logging.getLogger(__name__)
Kind = ReviewFinding.Kind
EVENT_IDS_MAX = 1000  # a finding keeps at most this many event ids; its count says how many
TEXT_MAX = 2000
EXPORT_ACTIONS = (AccessEvent.Action.EXPORT, AccessEvent.Action.DOWNLOAD, AccessEvent.Action.PRINT)


@dataclass(frozen=True)
class Rules:
    work_start: time
    work_end: time
    volume_factor: float
    volume_min: int
    baseline_months: int

    @property
    def hours(self) -> str:
        return f"{self.work_start:%H:%M}-{self.work_end:%H:%M}"


def rules() -> Rules:
    start, end = settings.ACCESS_REVIEW_WORK_HOURS
    return Rules(
        work_start=start,
        work_end=end,
        volume_factor=settings.ACCESS_REVIEW_VOLUME_FACTOR,
        volume_min=settings.ACCESS_REVIEW_VOLUME_MIN,
        baseline_months=settings.ACCESS_REVIEW_BASELINE_MONTHS,
    )


# --- Months ------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def previous_month(day: date) -> date:
    return add_months(month_start(day), -1)


def first_business_day(month: date) -> date:
    day = month_start(month)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def parse_month(text) -> date:
    """ "YYYY-MM" as the first of that month; 400 for anything else or for a month to come."""
    try:
        year, number = (int(part) for part in str(text).split("-"))
        month = date(year, number, 1)
    except (ValueError, TypeError):
        raise ValidationError(
            {"month": _("점검할 달을 2026-11처럼 YYYY-MM으로 적어 주세요.")}
        ) from None
    if month > month_start(timezone.localdate()):
        raise ValidationError({"month": _("아직 오지 않은 달은 점검할 수 없습니다.")})
    return month


def _bounds(month: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(month, time.min))
    end = timezone.make_aware(datetime.combine(add_months(month, 1), time.min))
    return start, end


def month_events(office: Organization, month: date) -> QuerySet[AccessEvent]:
    """The month's events of the organisations under the office (one partition of the log)."""
    start, end = _bounds(month)
    ids = access.organizations_under(office).values_list("pk", flat=True)
    return access.access_events_about(ids).filter(
        partition=month.strftime("%Y-%m"), occurred_at__gte=start, occurred_at__lt=end
    )


# --- The rules ---------------------------------------------------------------------------------


@dataclass
class Found:
    kind: str
    user_id: object
    count: int
    first_at: datetime
    last_at: datetime
    event_ids: list
    detail: dict


def _grouped(kind: str, events: QuerySet[AccessEvent], detail=None) -> list[Found]:
    """One finding per person among `events`, with their first EVENT_IDS_MAX event ids."""
    rows = (
        events.order_by()
        .values("user_id")
        .annotate(
            n=Count("id"),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
            ids=ArrayAgg("id", order_by="id"),
        )
    )
    return [
        Found(
            kind,
            row["user_id"],
            row["n"],
            row["first"],
            row["last"],
            row["ids"][:EVENT_IDS_MAX],
            detail(row) if detail else {},
        )
        for row in rows
    ]


def _after_hours(events, month: date, rules: Rules) -> list[Found]:
    start = rules.work_start.hour * 60 + rules.work_start.minute
    end = rules.work_end.hour * 60 + rules.work_end.minute
    last = add_months(month, 1) - timedelta(days=1)
    days = [month + timedelta(days=i) for i in range((last - month).days + 1)]
    closed = [day for day in days if not is_business_day(day)]
    outside = events.annotate(
        minute_of_day=ExtractHour("occurred_at") * 60 + ExtractMinute("occurred_at"),
        day=TruncDate("occurred_at"),
    ).filter(Q(minute_of_day__lt=start) | Q(minute_of_day__gte=end) | Q(day__in=closed))
    return _grouped(Kind.AFTER_HOURS, outside, lambda row: {"hours": rules.hours})


def _median_of_others(counts: list[int], own: int) -> float:
    others = list(counts)
    others.remove(own)
    return statistics.median(others) if others else 0


def _volume(events, office: Organization, month: date, rules: Rules) -> list[Found]:
    counts = list(
        events.order_by()
        .values("user_id", "membership__role")
        .annotate(n=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
    )
    by_role: dict[str, list[int]] = defaultdict(list)
    for row in counts:
        by_role[row["membership__role"] or ""].append(row["n"])
    everyone = [row["n"] for row in counts]
    months = [add_months(month, -i) for i in range(1, rules.baseline_months + 1)]
    earlier = access.access_events_about(
        access.organizations_under(office).values_list("pk", flat=True)
    ).filter(partition__in=[m.strftime("%Y-%m") for m in months])
    baseline = {
        row["user_id"]: row["n"] / rules.baseline_months
        for row in earlier.order_by().values("user_id").annotate(n=Count("id"))
    }
    found = []
    for row in counts:
        if row["n"] < rules.volume_min:
            continue
        own = baseline.get(row["user_id"])
        # The others of the same role that month (or, alone in the role, everyone else).
        peers = by_role[row["membership__role"] or ""]
        median = _median_of_others(peers if len(peers) > 1 else everyone, row["n"])
        if row["n"] <= rules.volume_factor * max(own or 0, median):
            continue
        ids = list(
            events.filter(user_id=row["user_id"])
            .order_by("id")
            .values_list("id", flat=True)[:EVENT_IDS_MAX]
        )
        detail = {
            "own_baseline": round(own, 1) if own is not None else None,
            "role": row["membership__role"] or "",
            "role_median": median,
            "factor": rules.volume_factor,
        }
        found.append(
            Found(Kind.VOLUME, row["user_id"], row["n"], row["first"], row["last"], ids, detail)
        )
    return found


def _reasons(row) -> dict:
    reasons = [r for r in row["reasons"] if r]
    return {
        "reasons": sorted(set(reasons))[:20],
        "without_reason": len(row["reasons"]) - len(reasons),
    }


def _with_reasons(kind: str, events) -> list[Found]:
    found = _grouped(kind, events)
    reasons = {
        row["user_id"]: _reasons(row)
        for row in events.order_by().values("user_id").annotate(reasons=ArrayAgg("reason"))
    }
    for item in found:
        item.detail = reasons.get(item.user_id, {})
    return found


def _membership_lapsed(events) -> list[Found]:
    day = TruncDate("occurred_at")
    lapsed = events.annotate(day=day).filter(
        Q(membership__ended_on__lt=F("day")) | Q(membership__approval_expires_on__lt=F("day"))
    )
    return _grouped(Kind.AFTER_MEMBERSHIP_END, lapsed)


def _unapproved(events) -> list[Found]:
    unapproved = Q(membership__approved_on__isnull=True) | Q(membership__approved_on__gt=F("day"))
    if settings.SECURITY_TRAINING_DAYS:
        lapse = timedelta(days=settings.SECURITY_TRAINING_DAYS)
        unapproved |= Q(membership__training_completed_on__isnull=True) | Q(
            membership__training_completed_on__lt=F("day") - lapse
        )
    rows = events.filter(membership__isnull=False).annotate(day=TruncDate("occurred_at"))
    return _grouped(Kind.UNAPPROVED_HANDLER, rows.filter(unapproved))


def findings_of(office: Organization, month: date, given: Rules | None = None) -> list[Found]:
    """What the review of `month` for `office` finds (nothing is written)."""
    in_force = given or rules()
    events = month_events(office, month)
    return [
        *_after_hours(events, month, in_force),
        *_volume(events, office, month, in_force),
        *_with_reasons(Kind.BREAK_GLASS, events.filter(action=AccessEvent.Action.BREAK_GLASS)),
        *_with_reasons(Kind.EXPORT, events.filter(action__in=EXPORT_ACTIONS)),
        *_membership_lapsed(events),
        *_unapproved(events),
        *_grouped(Kind.OUTSIDE_CASELOAD, access.outside_caseload(events)),
    ]


# --- Building ----------------------------------------------------------------------------------


def _organizations(found: list[Found], office: Organization) -> dict:
    """The organisation each person concerned works at under the office (their first)."""
    users = {f.user_id for f in found}
    ids = access.organizations_under(office).values_list("pk", flat=True)
    seen: dict = {}
    for user_id, org_id in (
        Membership.objects.filter(user_id__in=users, organization_id__in=ids)
        .order_by("-active", "started_on")
        .values_list("user_id", "organization_id")
    ):
        seen.setdefault(user_id, org_id)
    return seen


def start_review(office: Organization, month: date, *, by: User | None = None, job=None):
    """Lock the review of `month` for `office` (made if missing) for building: its status
    becomes `building`. A review whose explanation loop has begun is not built again (409)."""
    with transaction.atomic():
        review = AccessReview.objects.select_for_update().filter(office=office, month=month).first()
        if review is None:
            review = AccessReview(office=office, month=month)
        elif review.findings.exclude(status=ReviewFinding.Status.OPEN).exists():
            raise GuardFailed(
                _("소명 요청이 시작된 점검은 다시 작성할 수 없습니다. 이 점검에서 이어 가세요.")
            )
        review.status = AccessReview.Status.BUILDING
        review.built_by = by
        review.job = job
        save(review, by, gettext_noop("점검 작성 시작"))
    return review


@transaction.atomic
def build_review(office: Organization, month: date, *, by: User | None = None, job=None):
    """Build (or build again) the review of `month` for `office`: its findings replace the
    open ones, and the office's privacy officers are told."""
    review = start_review(office, month, by=by, job=job)
    review = AccessReview.objects.select_for_update().get(pk=review.pk)
    if review.findings.exclude(status=ReviewFinding.Status.OPEN).exists():
        raise GuardFailed(_("소명 요청이 시작된 점검은 다시 작성할 수 없습니다."))
    found = findings_of(office, month)
    for old in review.findings.all():
        attribute(old, by, gettext_noop("점검 다시 작성"))
        old.delete()
    organizations = _organizations(found, office)
    rows = [
        ReviewFinding(
            review=review,
            kind=f.kind,
            user_id=f.user_id,
            organization_id=organizations.get(f.user_id),
            count=f.count,
            first_at=f.first_at,
            last_at=f.last_at,
            event_ids=f.event_ids,
            detail=f.detail,
        )
        for f in found
    ]
    bulk_create_with_history(
        rows, ReviewFinding, default_user=by, default_change_reason=gettext_noop("점검 작성")
    )
    review.status = AccessReview.Status.BUILT
    review.event_count = month_events(office, month).count()
    review.built_at = timezone.now()
    review.reviewed_at = review.reviewed_by = None
    save(review, by, gettext_noop("점검 작성"))
    notify(
        access.audience(office, "access_review_built"),
        kind="access_review_built",
        params={"month": month.strftime("%Y-%m"), "count": len(rows)},
        url=f"/casework/oversight/reviews/{review.pk}/",
        exclude=by,
    )
    return review


REVIEW_TASK = "casework.tasks.build_access_review"  # enqueued by name (casework.queue)


def request_review(office: Organization, month: date, *, by: User) -> tuple[AccessReview, Job]:
    """The officer asks for the review of `month` now: the review shows `building` and a job
    builds it (at once where Celery runs eagerly). Someone who does not oversee the office is
    refused (403); a publish that fails leaves the job queued for the stale-job sweep."""
    if not access.may_oversee(by, office):
        raise PermissionDenied(_("이 교육청의 접속 기록을 점검할 권한이 없습니다."))
    job = Job(kind=Job.Kind.ACCESS_REVIEW, created_by=by, organization=office)
    attribute(job, by, gettext_noop("점검 작성 요청"))
    job.save()
    review = start_review(office, month, by=by, job=job)
    # The broker is away: the job stays queued and the job sweep publishes it again.
    publish(REVIEW_TASK, [str(job.pk), month.isoformat()])
    return review, job


def run_review_job(job: Job, month_text: str) -> AccessReview | None:
    """The worker's part: build the review, then say so on the job (or that it failed)."""
    month = date.fromisoformat(month_text)
    review_id = (
        AccessReview.objects.filter(office=job.organization, month=month)
        .values_list("pk", flat=True)
        .first()
    )
    try:
        review = build_review(job.organization, month, by=job.created_by, job=job)
    except Exception as error:
        fail_review(review_id, job.created_by)
        message = (
            error.message
            if isinstance(error, GuardFailed)
            else _("점검을 작성하지 못했습니다. 잠시 뒤 다시 시도하세요.")
        )
        _finish(
            job, Job.Status.FAILED, errors=[{"row": None, "field": "", "message": str(message)}]
        )
        if not isinstance(error, GuardFailed):
            logger.exception("access review of %s %s failed", job.organization_id, month_text)
        return None
    _finish(job, Job.Status.SUCCEEDED, result={"review": str(review.pk)})
    return review


def _finish(job: Job, status: str, *, errors=None, result=None) -> None:
    job.status = status
    job.errors = errors or []
    job.result = result or {}
    job.total = job.processed = 1
    job.finished_at = timezone.now()
    attribute(job, job.created_by, gettext_noop("점검 작성 끝"))
    job.save(update_fields=["status", "errors", "result", "total", "processed", "finished_at"])


def fail_review(review_id, by: User | None = None) -> None:
    with transaction.atomic():
        review = AccessReview.objects.select_for_update().filter(pk=review_id).first()
        if review is not None and review.status == AccessReview.Status.BUILDING:
            review.status = AccessReview.Status.FAILED
            save(review, by, gettext_noop("점검 작성 실패"))


def build_monthly_reviews(today: date | None = None) -> list[AccessReview]:
    """On the first business day of a month, the previous month's review of every provincial
    office that has none built yet (the beat task runs daily; other days do nothing)."""
    today = today or timezone.localdate()
    if today != first_business_day(today):
        return []
    month = previous_month(today)
    built = []
    for office in Organization.objects.filter(kind=OrganizationKind.PROVINCIAL_OFFICE, active=True):
        done = AccessReview.objects.filter(
            office=office,
            month=month,
            status__in=[AccessReview.Status.BUILT, AccessReview.Status.REVIEWED],
        ).exists()
        if not done:
            built.append(build_review(office, month))
    return built


# --- The explanation loop (소명) ----------------------------------------------------------------


def _text(value, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    if len(value) > TEXT_MAX:
        raise ValidationError({field: _("%(n)s자 이내로 적어 주세요.") % {"n": f"{TEXT_MAX:,}"}})
    return value


def _locked(finding: ReviewFinding) -> ReviewFinding:
    return (
        ReviewFinding.objects.select_for_update(of=("self",))
        .select_related("review__office", "user")
        .get(pk=finding.pk)
    )


@transaction.atomic
def ask(finding: ReviewFinding, *, by: User, question: str) -> ReviewFinding:
    """The officer asks the person concerned to explain (again, after an answer)."""
    finding = _locked(finding)
    if not access.may_oversee(by, finding.review.office):
        raise Http404
    question = _text(question, "question", _("무엇을 소명해야 하는지 적어 주세요."))
    if finding.status not in (ReviewFinding.Status.OPEN, ReviewFinding.Status.ANSWERED):
        raise GuardFailed(_("이미 소명을 기다리고 있거나 종결된 점검 결과입니다."))
    finding.status = ReviewFinding.Status.ASKED
    finding.question = question
    finding.asked_by = by
    finding.asked_at = timezone.now()
    save(finding, by, gettext_noop("소명 요청"))
    notify(
        [finding.user],
        kind="finding_asked",
        params={"month": finding.review.month.strftime("%Y-%m")},
        body=question,
        url=f"/casework/oversight/findings/{finding.pk}/answer/",
        exclude=by,
    )
    return finding


@transaction.atomic
def answer(finding: ReviewFinding, *, by: User, text: str) -> ReviewFinding:
    """The person concerned explains; only they may, and only while asked."""
    finding = _locked(finding)
    if finding.user_id != by.pk:
        raise Http404
    text = _text(text, "answer", _("소명 내용을 적어 주세요."))
    if finding.status != ReviewFinding.Status.ASKED:
        raise GuardFailed(_("소명을 요청받은 상태가 아닙니다."))
    finding.status = ReviewFinding.Status.ANSWERED
    finding.answer = text
    finding.answered_at = timezone.now()
    save(finding, by, gettext_noop("소명 답변"))
    if finding.asked_by_id:
        notify(
            [finding.asked_by],
            kind="finding_answered",
            params={"user": str(by), "month": finding.review.month.strftime("%Y-%m")},
            body=text,
            url=f"/casework/oversight/findings/{finding.pk}/",
            exclude=by,
        )
    return finding


@transaction.atomic
def close(finding: ReviewFinding, *, by: User, resolution: str) -> ReviewFinding:
    """The officer closes the finding with a resolution; the last one closes the review."""
    finding = _locked(finding)
    if not access.may_oversee(by, finding.review.office):
        raise Http404
    resolution = _text(resolution, "resolution", _("처리 결과를 적어 주세요."))
    if finding.status == ReviewFinding.Status.CLOSED:
        raise GuardFailed(_("이미 종결된 점검 결과입니다."))
    finding.status = ReviewFinding.Status.CLOSED
    finding.resolution = resolution
    finding.closed_by = by
    finding.closed_at = timezone.now()
    save(finding, by, gettext_noop("점검 결과 종결"))
    review = AccessReview.objects.select_for_update().get(pk=finding.review_id)
    if not review.findings.exclude(status=ReviewFinding.Status.CLOSED).exists():
        _complete(review, by)
    return finding


def _complete(review: AccessReview, by: User) -> None:
    review.status = AccessReview.Status.REVIEWED
    review.reviewed_at = timezone.now()
    review.reviewed_by = by
    save(review, by, gettext_noop("점검 완료"))


@transaction.atomic
def complete(review: AccessReview, *, by: User) -> AccessReview:
    """The officer marks a built review done; every finding must be closed first (409)."""
    review = AccessReview.objects.select_for_update().select_related("office").get(pk=review.pk)
    if not access.may_oversee(by, review.office):
        raise Http404
    if review.status != AccessReview.Status.BUILT:
        raise GuardFailed(_("작성이 끝난 점검만 완료할 수 있습니다."))
    if review.findings.exclude(status=ReviewFinding.Status.CLOSED).exists():
        raise GuardFailed(_("종결하지 않은 점검 결과가 있습니다."))
    _complete(review, by)
    return review
