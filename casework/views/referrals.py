"""Pages of referrals and transfers: the coordinator refers from the case page, the district
centre decides escalations, partners work their inbox; the two sides talk in the thread.
Objects come through the access selectors (invisible → 404); every change is a workflow."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import access, actions, packets, selectors
from casework.choices import ConsentPurpose, LegalBasis
from casework.forms import ConsentForm, KrdsForm, MessageForm, ReferralForm
from casework.models import Case, Referral, ReferralKind, ReferralStatus
from casework.models.referrals import OPEN_STATUSES
from casework.workflows import referrals as wf
from casework.workflows import sharing, transfers
from casework.workflows.consent_gaps import consent_gaps
from casework.workflows.errors import WorkflowError
from core.listing import Listing, in_order
from core.pagination import SlimPaginator
from partners.catalogue import packet_fields
from partners.choices import Domain, OrganizationKind
from partners.models import Organization, User

from .common import PAGE_SIZE, attempt, export_query, log, visible_case_or_404

# The filters of a referral list its export keeps (the overdue filter is the page's only).
REFERRAL_EXPORTED = ("box", "status", "kind")

RELATED = ("case__student", "from_organization", "to_organization", "service", "assignee")


@login_required
def referral_new(request, pk):
    """Refer from the case page: pick a partner or service from the directory filtered by the
    student's borough and the needed domain, tick the fields to share, preview exactly what the
    receiver will see, then send (or keep a draft)."""
    case = visible_case_or_404(request, pk)
    sender = sharing.sending_organization(request.user, case)
    if sender is None:
        raise PermissionDenied(_("이 사례의 의뢰는 사례 담당자만 작성할 수 있습니다."))
    data = request.POST if request.method == "POST" else None
    source = data or request.GET
    domains = source.getlist("requested_domains") or list(case.domains or [])
    choices, rows, borough_code = selectors.directory_targets(case, sender, domains)
    escalation_to = sharing.escalation_target(case) if sender.pk == case.owner_id else None
    kind = source.get("kind", "service")
    # The receiver, once known (an escalation's office, a chosen directory entry): the default
    # fields are those its agreement allows, and the page says which consent covers it.
    receiver = (
        escalation_to
        if kind == "escalation"
        else selectors.directory_target(source.get("target"))[0]
    )
    initial = {
        "requested_domains": domains,
        "shared_fields": sharing.default_shared_fields(sender, receiver)
        if receiver is not None
        else list(sharing.NON_SENSITIVE_DEFAULTS),
        "kind": kind,
        "target": source.get("target", ""),
    }
    form = ReferralForm(data, initial=initial, targets=choices)
    preview = None
    intent = (data or {}).get("intent", "preview")
    if data is not None and form.is_valid():
        cleaned = form.cleaned_data
        if cleaned["kind"] == "escalation":
            to, service = escalation_to, None
        else:
            to, service = selectors.directory_target(cleaned["target"])
        if to is None:
            messages.error(request, _("받는 기관을 고르세요."))
        else:
            args = {
                "kind": cleaned["kind"],
                "to_organization": to,
                "service": service,
                "reason": cleaned["reason"],
                "requested_domains": cleaned["requested_domains"],
                "requested_support": cleaned["requested_support"],
                "shared_fields": cleaned["shared_fields"],
                "notes_excerpt": cleaned["notes_excerpt"],
                "legal_basis": cleaned["legal_basis"],
                "justification": cleaned["justification"],
                "urgency": cleaned["urgency"],
                "respond_by": cleaned["respond_by"],
            }
            if intent == "preview":
                preview = _preview(request, case, args, form)
            else:
                # A draft is kept whatever the consent state; sending needs the consent.
                create = wf.create_and_send_referral if intent == "send" else wf.draft_referral
                referral = attempt_on_form(request, form, create, case, by=request.user, **args)
                if referral is not None:
                    text = (
                        _("의뢰를 보냈습니다: %(number)s")
                        if referral.status == ReferralStatus.SENT
                        else _("의뢰를 임시 저장했습니다: %(number)s")
                    )
                    messages.success(request, text % {"number": referral.number})
                    if intent == "draft_consent":
                        return redirect(
                            reverse("casework:referral_detail", args=[referral.pk])
                            + "#consent-record"
                        )
                    return redirect("casework:referral_detail", pk=referral.pk)
    mark_errors(form)
    log(request, "view", "referral_form", [case], case=case, student=case.student)
    catalogue = packet_fields()
    return render(
        request,
        "casework/referral_new.html",
        {
            "case": case,
            "sender": sender,
            "form": form,
            "groups": directory_groups(rows),
            "borough": _borough(case, borough_code),
            "escalation_to": escalation_to,
            "preview": preview,
            "sensitive": [c for c, f in catalogue.items() if f.sensitive],
            "domains": Domain.choices,
            "receiver": receiver,
            "consent": _consent_status(case, receiver),
        },
    )


def _consent_status(case: Case, receiver: Organization | None) -> dict | None:
    """Which recorded consents let this case's data go to `receiver` on the consent basis (both
    the student's and the guardian's, with the purpose the receiver needs), or what is missing."""
    if receiver is None:
        return None
    return {
        "purpose": sharing.consent_purpose_label(receiver),
        "covering": list(sharing.consents_covering(case, receiver).values()),
        "missing": sharing.missing_consent(case, receiver),
        "gaps": consent_gaps(case, receiver),
    }


def _borough(case: Case, code: str) -> Organization | None:
    """The borough the directory is filtered by: the student's home, else the school's."""
    if case.student.home_borough_id:
        return case.student.home_borough
    return Organization.objects.filter(
        kind=OrganizationKind.LOCAL_GOVERNMENT, region_code=code
    ).first()


def directory_groups(rows: list[dict]) -> list[dict]:
    """The directory by organisation, each listed once: the organisation as a whole (when it
    may be referred to) and its services under it, in the rows' order of names."""
    groups: dict = {}
    for row in rows:
        org = row["organization"]
        group = groups.setdefault(
            org.pk, {"organization": org, "whole": None, "services": [], "agreement": False}
        )
        if row["service"] is None:
            group["whole"] = row
        else:
            group["services"].append(row)
        group["agreement"] = group["agreement"] or row["agreement"]
    return sorted(groups.values(), key=lambda g: g["organization"].name)


def attempt_on_form(request, form, workflow, *args, **kwargs):
    """`attempt`, with a refusal about one of the form's fields shown beside that field."""
    try:
        return workflow(*args, **kwargs)
    except WorkflowError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            for text in exc.messages:
                messages.error(request, text)
            return None
        for field, errors in exc.message_dict.items():
            if field in form.fields:
                form.add_error(field, errors)
            else:
                for text in errors:
                    messages.error(request, text)
    return None


def mark_errors(form) -> None:
    """KRDS marks a field in error on its input too."""
    if not form.is_bound:
        return
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            widget.attrs["aria-invalid"] = "true"
            if "krds-input" in widget.attrs.get("class", ""):
                widget.attrs["class"] += " is-error"


def _preview(request, case, args, form):
    """What the receiver would see: every guard run and the packet taken as sending would, with
    nothing kept (a refusal becomes a message on the page, or an error beside its field)."""
    preview = attempt_on_form(request, form, wf.preview_referral, case, by=request.user, **args)
    if preview is None:
        return None
    return {
        "to": preview.referral.to_organization,
        "service": preview.referral.service,
        "rows": packets.display_rows(preview.packet),
        "warnings": packets.warnings(preview.packet),
        "respond_by": preview.respond_by,
        "legal_basis": preview.referral.get_legal_basis_display(),
    }


# --- Inbox and outbox -------------------------------------------------------------------------


@login_required
def referral_list(request):
    """받은 의뢰 (inbox: the district centre's escalations, a partner's referrals) and 보낸 의뢰
    (outbox), with status, kind and overdue filters."""
    kept = Listing(
        request,
        "referrals",
        filters=("box", "status", "kind", "overdue"),
        sorts={
            "number": "number",
            "requested": "created_at",
            "due": F("respond_by"),
            "status": in_order("status", ReferralStatus.values),
        },
        default="-requested",
    )
    params = kept.params
    box = params.get("box") or selectors.default_referral_box(request.user)
    status = params.get("status", "open")
    statuses = None
    if status == "open":
        statuses = OPEN_STATUSES
    elif status in ReferralStatus.values:
        statuses = [status]
    kind = params.get("kind")
    overdue_only = params.get("overdue") == "1"
    listing = selectors.referral_listing(
        request.user,
        box="inbox" if box == "inbox" else "outbox",
        statuses=statuses,
        kind=kind if kind in ReferralKind.values else None,
        overdue=overdue_only,
        shows=("case__student",),
    )
    rows = kept.order(listing.rows)
    page = SlimPaginator(rows, PAGE_SIZE, count=listing.count).get_page(request.GET.get("page"))
    full = access.visible_case_ids(request.user, {r.case_id for r in page})
    entries = [
        {
            "referral": r,
            "full": r.case_id in full,
            "student": r.case.student.name
            if r.case_id in full
            else ((r.packet or {}).get("fields", {}).get("student_name") or _("(공유되지 않음)")),
            "overdue": r.is_overdue(listing.today),
        }
        for r in page
    ]
    log(request, "list", "referral", list(page))
    kept.remember()
    return render(
        request,
        "casework/referral_list.html",
        {
            "listing": kept,
            "box": box,
            "page": page,
            "entries": entries,
            "status": status,
            "kind": kind or "",
            "overdue_only": overdue_only,
            "overdue_count": listing.overdue,
            "statuses": ReferralStatus.choices,
            "export_query": export_query(
                "referral_list",
                {"box": box, "status": status, "kind": kind if kind in ReferralKind.values else ""},
                REFERRAL_EXPORTED,
            ),
        },
    )


@login_required
def referral_badge(request):
    """The menu's count of received referrals past their respond-by date (htmx)."""
    count = selectors.overdue_received_count(request.user)
    return HttpResponse(str(count) if count else "")


# --- One referral -----------------------------------------------------------------------------


def visible_referral_or_404(request, pk) -> Referral:
    referral = access.visible_referrals(request.user).filter(pk=pk).select_related(*RELATED).first()
    if referral is None:
        raise Http404
    return referral


@login_required
def referral_detail(request, pk):
    return _detail_page(request, visible_referral_or_404(request, pk))


def _detail_page(request, referral: Referral, consent_form=None):
    """The referral page; `consent_form` re-shown with what was typed and its errors."""
    checker = access.AccessChecker(request.user)
    case_perms = checker.perms(referral.case)
    full = access.VIEW_CASE in case_perms
    receiver = checker.has(access.ACT_ON_REFERRAL, referral)
    sender = access.is_referral_sender(request.user, referral)
    # Sending, cancelling: the check the workflow makes (a vice-principal follows the case only).
    can_send = access.acts_for_referral_sender(request.user, referral, case_perms)
    can_decide = receiver and access.may_decide_referral(request.user, referral)
    assignees = []
    if receiver and referral.status in OPEN_STATUSES:
        assignees = access.receiving_people(referral.to_organization)
    thread = list(referral.messages.select_related("author", "organization"))
    drafting = can_send and referral.status == ReferralStatus.DRAFT
    gaps = []
    if drafting and referral.legal_basis == LegalBasis.CONSENT:
        gaps = consent_gaps(referral.case, referral.to_organization)
        if consent_form is None and gaps:
            consent_form = _consent_form(referral, gaps)
    log(request, "view", "referral", [referral], case=referral.case)
    return render(
        request,
        "casework/referral_detail.html",
        {
            "referral": referral,
            "full": full,
            "receiver": receiver,
            "sender": sender,
            "can_send": can_send,
            "can_decide": can_decide,
            "packet_rows": packets.display_rows(referral.packet),
            "packet_warnings": packets.warnings(referral.packet),
            "consent_gaps": gaps,
            "consent_purpose": sharing.consent_purpose_label(referral.to_organization),
            "consent_form": consent_form if drafting else None,
            "shared_labels": [
                packet_fields()[c].label for c in referral.shared_fields if c in packet_fields()
            ],
            "thread": thread,
            "message_form": MessageForm(),
            "overdue": referral.is_overdue(),
            "assignees": assignees,
            "is_open": referral.status in OPEN_STATUSES,
        },
    )


def _consent_form(referral: Referral, gaps: list[dict]):
    """The consent the send step lacks, ready to record: the first missing subject, the
    purposes the receiver needs."""
    purposes = [ConsentPurpose.SUPPORT, sharing.consent_purpose(referral.to_organization)]
    return ConsentForm(
        prefix="consent", initial={"subject": gaps[0]["subject"], "purposes": purposes}
    )


@login_required
@require_POST
def referral_consent(request, pk):
    """The draft's send step records the consent it lacks (the case page's consent action) and
    comes back to the draft: nothing typed is lost."""
    referral = visible_referral_or_404(request, pk)
    if referral.status != ReferralStatus.DRAFT or not access.acts_for_referral_sender(
        request.user, referral
    ):
        raise PermissionDenied(_("보내기 전의 의뢰에서 보낸 기관의 사례 담당자만 할 수 있습니다."))
    case = actions.CASE.find(request.user, referral.case_id)
    step = actions.CASE["consent"]
    form = step.form(request.POST, prefix="consent")
    if form.is_valid():
        done = attempt_on_form(request, form, step.run, case, by=request.user, **form.cleaned_data)
        if done is not None:
            messages.success(
                request,
                _("%(subject)s 동의를 기록했습니다.") % {"subject": done.get_subject_display()},
            )
            return redirect(reverse("casework:referral_detail", args=[referral.pk]) + "#send")
    mark_errors(form)
    return _detail_page(request, referral, consent_form=form)


def _after_action(user, referral):
    """Back to the referral, or to the list once the user may no longer see it."""
    if not access.visible_referrals(user).filter(pk=referral.pk).exists():
        return redirect("casework:referral_list")
    return redirect("casework:referral_detail", pk=referral.pk)


@login_required
@require_POST
def referral_action(request, pk, action):
    """The referral page's buttons: one action of the table (casework/actions.py) each, or a
    message in the thread."""
    if action == "message":
        return referral_message(request, pk)
    if action == "consent":
        return referral_consent(request, pk)
    referral = actions.REFERRAL.find(request.user, pk)
    step = actions.REFERRAL.get(action)
    if step is None:
        raise Http404
    form = step.form(request.POST)
    form.is_valid()
    data = {"version": form.cleaned_data.get("version")}
    if step.text:
        data[step.text] = form.cleaned_data.get("text") or ""
    if "assignee" in step.takes:
        data["assignee"] = User.objects.filter(pk=request.POST.get("assignee") or None).first()
        if data["assignee"] is None:
            messages.error(request, _("담당자를 고르세요."))
            return _after_action(request.user, referral)
    done = attempt(request, step.run, referral, by=request.user, **data)
    if done is not None:
        messages.success(
            request, _("의뢰 상태: %(status)s") % {"status": done.get_status_display()}
        )
    return _after_action(request.user, referral)


def referral_message(request, pk):
    """A message in the referral's thread (posted to the referral's action URL)."""
    referral = visible_referral_or_404(request, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        attempt(request, wf.post_message, referral, by=request.user, **form.cleaned_data)
    else:
        messages.error(request, _("메시지 내용을 적어 주세요."))
    return _after_action(request.user, referral)


# --- Transfers -------------------------------------------------------------------------------


@login_required
def transfer_list(request):
    rows = (
        access.visible_transfers(request.user)
        .select_related("case__student", "from_school", "to_school", "requested_by")
        .order_by("-requested_at")
    )
    page = SlimPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "list", "transfer", list(page))
    mine = {school.pk for school in access.transfer_receiving_schools(request.user)}
    checker = access.AccessChecker(request.user)
    checker.prefetch([t.case for t in page])
    cancellable = {
        t.pk
        for t in page
        if t.status == "requested"
        and access.may_request_transfer(request.user, t.case, checker.perms(t.case))
    }
    claims = list(
        access.visible_claims(request.user)
        .select_related("to_school", "case__student", "claimed_by")
        .order_by("-claimed_at")[:PAGE_SIZE]
    )
    claiming = access.transfer_receiving_schools(request.user)
    claimant_side = {school.pk for school in claiming}
    made = [c for c in claims if c.to_school_id in claimant_side]
    for claim in made:
        claim.claimant_status = transfers.claimant_status(claim)
    received = [c for c in claims if c.to_school_id not in claimant_side]
    log(request, "list", "transfer_claim", claims)
    return render(
        request,
        "casework/transfer_list.html",
        {
            "page": page,
            "mine": mine,
            "cancellable": cancellable,
            "claim_form": TransferClaimForm() if claiming else None,
            "claims_made": made,
            "claims_received": received,
            "claim_days": transfers.CLAIM_DAYS,
        },
    )


class TransferClaimForm(KrdsForm):
    """The new school names its new pupil as its own records give them (DESIGN.md §4)."""

    neis_id = forms.CharField(label=_("학생개인번호(NEIS)"), max_length=40)
    student_name = forms.CharField(label=_("학생 이름"), max_length=100)
    birth_date = forms.DateField(
        label=_("생년월일"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("사유"), widget=forms.Textarea(attrs={"rows": 2}))


@login_required
@require_POST
def transfer_claim(request):
    """The same answer whether or not the student has a case at another school."""
    if not access.transfer_receiving_schools(request.user):
        raise PermissionDenied(_("전학 온 학교의 담당자만 이관을 요청할 수 있습니다."))
    form = TransferClaimForm(request.POST)
    if form.is_valid():
        if attempt(request, transfers.claim_transfer, by=request.user, **form.cleaned_data):
            messages.success(
                request,
                _(
                    "이관 확인 요청을 기록했습니다. 학생의 이전 학교에 사례가 있으면 그 학교 "
                    "담당자가 확인한 뒤 사례가 옮겨집니다."
                ),
            )
    else:
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, text)
    return redirect("casework:transfer_list")


@login_required
@require_POST
def transfer_claim_action(request, pk, action):
    claim = actions.CLAIM.find(request.user, pk)
    step = actions.CLAIM.get(action)
    if step is None:
        raise Http404
    reason = request.POST.get("reason", "")
    done = attempt(request, step.run, claim, by=request.user, reason=reason)
    if done is not None:
        messages.success(
            request, _("전학 이관 확인 요청: %(status)s") % {"status": done.get_status_display()}
        )
    return redirect("casework:transfer_list")


@login_required
@require_POST
def transfer_action(request, pk, action):
    transfer = actions.TRANSFER.find(request.user, pk)
    step = actions.TRANSFER.get(action)
    if step is None:
        raise Http404
    reason = request.POST.get("reason", "")
    done = attempt(request, step.run, transfer, by=request.user, reason=reason)
    if done is not None:
        messages.success(
            request, _("전학 이관: %(status)s") % {"status": done.get_status_display()}
        )
        if action == "accept":
            return redirect("casework:case_detail", pk=transfer.case_id)
    return redirect("casework:transfer_list")
