"""The monthly access-log review as pages (DESIGN.md §9): the privacy officer's list of reviews
and their findings, each finding's events and its explanation loop (소명), and the page where
the person concerned answers, reached from their notification."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import access
from casework.audit import partitions
from casework.forms import (
    FindingAnswerForm,
    FindingQuestionForm,
    FindingResolutionForm,
    ReviewBuildForm,
)
from casework.models import AccessEvent, AccessReview, ReviewFinding
from casework.workflows import erasure, reviews
from casework.workflows.errors import WorkflowError
from core.listing import Listing, in_order
from partners.choices import Role

from .common import log

EVENTS_SHOWN = 50
ROLE_LABELS = dict(Role.choices)


def describe(finding: ReviewFinding) -> list[str]:
    """What the rule measured, as sentences (the finding keeps codes and numbers)."""
    detail = finding.detail or {}
    lines = []
    if finding.kind == ReviewFinding.Kind.AFTER_HOURS:
        lines.append(
            _("업무 시간(%(hours)s, 업무일) 밖의 접속입니다.") % {"hours": detail.get("hours", "")}
        )
    elif finding.kind == ReviewFinding.Kind.VOLUME:
        own = detail.get("own_baseline")
        lines.append(
            _(
                "이달 %(count)s건: 지난 몇 달 월평균 %(own)s건, 같은 역할(%(role)s)의 이달 중앙값 %(median)s건"
            )
            % {
                "count": f"{finding.count:,}",
                "own": f"{own:,}" if own is not None else _("기록 없음"),
                "role": ROLE_LABELS.get(detail.get("role"), detail.get("role") or "-"),
                "median": f"{detail.get('role_median', 0):,}",
            }
        )
    if detail.get("reasons"):
        lines.append(_("밝힌 사유: %(reasons)s") % {"reasons": " · ".join(detail["reasons"])})
    if detail.get("without_reason"):
        lines.append(_("사유 없이 %(n)s건") % {"n": detail["without_reason"]})
    return lines


def _officer(request):
    if not access.may_read_access_log(request.user):
        raise PermissionDenied


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, texts in error.message_dict.items():
            form.add_error(field if field in form.fields else None, texts)
    else:
        form.add_error(None, error.messages)


@login_required
def review_list(request):
    """The reviews of the officer's offices; POST builds the review of a month now."""
    _officer(request)
    offices = access.privacy_offices(request.user)
    form = ReviewBuildForm(request.POST or None, initial={"month": _last_month()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                month = reviews.parse_month(form.cleaned_data["month"])
                review, job = reviews.request_review(offices[0], month, by=request.user)
            except ValidationError as error:
                _form_errors(form, error)
            except WorkflowError as error:
                form.add_error(None, error.message)
            else:
                job.refresh_from_db()
                if job.status == job.Status.FAILED:
                    form.add_error(None, (job.errors or [{}])[0].get("message", ""))
                else:
                    done = job.status == job.Status.SUCCEEDED
                    messages.success(
                        request,
                        _("점검을 작성했습니다.")
                        if done
                        else _("점검을 작성하고 있습니다. 잠시 뒤 새로 고치세요."),
                    )
                    return redirect("casework:review_detail", review.pk)
        status = 409 if form.non_field_errors() else 400
    kept = Listing(
        request,
        "reviews",
        sorts={
            "month": "month",
            "status": (in_order("status", AccessReview.Status.values), "-month"),
        },
        default="-month",
    )
    rows = list(
        kept.order(access.visible_reviews(request.user).select_related("office", "built_by"))[:60]
    )
    kept.remember()
    open_counts = _open_counts(rows)
    return render(
        request,
        "casework/review_list.html",
        {
            "form": form,
            "listing": kept,
            "reviews": [(r, open_counts.get(r.pk, 0)) for r in rows],
        },
        status=status,
    )


def _last_month() -> str:
    return reviews.previous_month(timezone.localdate()).strftime("%Y-%m")


def _open_counts(rows) -> dict:
    return dict(
        ReviewFinding.objects.filter(review__in=rows)
        .exclude(status=ReviewFinding.Status.CLOSED)
        .order_by()
        .values("review_id")
        .annotate(n=Count("id"))
        .values_list("review_id", "n")
    )


@login_required
def review_detail(request, pk):
    _officer(request)
    review = access.get_visible_review_or_404(request.user, pk)
    findings = list(
        review.findings.select_related("user", "organization").order_by("kind", "-count")
    )
    log(request, "view", "review_finding", findings)
    return render(
        request,
        "casework/review_detail.html",
        {"review": review, "findings": [(f, describe(f)) for f in findings]},
    )


@login_required
@require_POST
def review_complete(request, pk):
    _officer(request)
    review = access.get_visible_review_or_404(request.user, pk)
    try:
        reviews.complete(review, by=request.user)
    except WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("점검을 완료했습니다."))
    return redirect("casework:review_detail", review.pk)


def _events(finding: ReviewFinding) -> list[AccessEvent]:
    ids = (finding.event_ids or [])[:EVENTS_SHOWN]
    return list(
        AccessEvent.objects.filter(id__in=ids)
        .select_related("user", "membership__organization", "case")
        .order_by("-occurred_at", "-id")
    )


@login_required
def finding_detail(request, pk):
    """A finding, its events, and the officer's forms: ask (POST do=ask), close (do=close)."""
    _officer(request)
    finding = access.get_overseen_finding_or_404(request.user, pk)
    ask_form = FindingQuestionForm(prefix="ask")
    close_form = FindingResolutionForm(prefix="close")
    status = 200
    if request.method == "POST":
        do = request.POST.get("do")
        form = {"ask": ask_form, "close": close_form}.get(do)
        if form is None:
            status = 400
        else:
            form = type(form)(request.POST, prefix=do)
            if do == "ask":
                ask_form = form
            else:
                close_form = form
            if form.is_valid():
                try:
                    if do == "ask":
                        reviews.ask(
                            finding, by=request.user, question=form.cleaned_data["question"]
                        )
                        text = _("소명을 요청했습니다. 당사자에게 알림이 갔습니다.")
                    else:
                        reviews.close(
                            finding, by=request.user, resolution=form.cleaned_data["resolution"]
                        )
                        text = _("점검 결과를 종결했습니다.")
                except ValidationError as error:
                    _form_errors(form, error)
                    status = 400
                except WorkflowError as error:
                    form.add_error(None, error.message)
                    status = 409
                else:
                    messages.success(request, text)
                    return redirect("casework:finding_detail", finding.pk)
            else:
                status = 400
    events = _events(finding)
    log(request, "view", "access_event", events)
    return render(
        request,
        "casework/finding_detail.html",
        {
            "finding": finding,
            "lines": describe(finding),
            "events": events,
            "more": max(finding.count - len(events), 0),
            "month": finding.review.month,
            "ask_form": ask_form,
            "close_form": close_form,
            "may_ask": finding.status in (ReviewFinding.Status.OPEN, ReviewFinding.Status.ANSWERED),
            "may_close": finding.status != ReviewFinding.Status.CLOSED,
        },
        status=status,
    )


@login_required
def finding_answer(request, pk):
    """The person concerned reads the officer's question and answers it."""
    finding = access.get_own_finding_or_404(request.user, pk)
    form = FindingAnswerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reviews.answer(finding, by=request.user, text=form.cleaned_data["answer"])
            except ValidationError as error:
                _form_errors(form, error)
                status = 400
            except WorkflowError as error:
                form.add_error(None, error.message)
                status = 409
            else:
                messages.success(request, _("소명을 보냈습니다."))
                return redirect("casework:finding_answer", finding.pk)
        else:
            status = 400
    events = _events(finding)
    log(request, "view", "access_event", events)
    return render(
        request,
        "casework/finding_answer.html",
        {
            "finding": finding,
            "events": events,
            "form": form,
            "may_answer": finding.status == ReviewFinding.Status.ASKED,
        },
        status=status,
    )


@login_required
def oversight_home(request):
    """The privacy officer's desk: the latest reviews, the explanations waiting, break-glass in
    force under their office, and when the access log's oldest month goes."""
    _officer(request)
    latest = list(
        access.visible_reviews(request.user).select_related("office").order_by("-month")[:3]
    )
    open_counts = _open_counts(latest)
    waiting = list(
        access.open_findings(request.user)
        .select_related("user", "review")
        .order_by("-status", "asked_at")[:20]
    )
    glass = list(
        access.overseen_break_glasses(request.user)
        .select_related("case", "user", "membership__organization")
        .order_by("expires_at")
    )
    log(request, "view", "review_finding", waiting)
    return render(
        request,
        "casework/oversight_home.html",
        {
            "reviews": [(r, open_counts.get(r.pk, 0)) for r in latest],
            "waiting": waiting,
            "glass": glass,
            "expiry": partitions.next_expiry(),
            "forecast": erasure.forecast(),
        },
    )
