"""Pages of referrals and transfers: the coordinator refers from the case page, the district
centre decides escalations, partners work their inbox; the two sides talk in the thread.
Objects come through the access selectors (invisible → 404); every change is a workflow."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import access, deadlines, packets, selectors
from casework.forms import KrdsForm, MessageForm, ReferralDecisionForm, ReferralForm
from casework.models import Case, Consent, Referral, ReferralStatus
from casework.models.referrals import AWAITING_RESPONSE, OPEN_STATUSES
from casework.workflows import records, transfers
from casework.workflows import referrals as wf
from casework.workflows.errors import WorkflowError
from partners.catalogue import packet_fields
from partners.choices import PARTNER_KINDS, Domain
from partners.models import Organization, Service, User
from partners.pagination import SlimPaginator

from .work import attempt, log, visible_case_or_404

PAGE_SIZE = 25
RELATED = ("case__student", "from_organization", "to_organization", "service", "assignee")


class _Preview(Exception):
    """Raised inside the preview transaction so that nothing it wrote is kept."""

    def __init__(self, referral, packet):
        self.referral, self.packet = referral, packet


# --- Directory for the referral form ----------------------------------------------------------


def directory_targets(case: Case, sender: Organization, domains: list[str]):
    """Partners and services for this student: serving the student's home borough (else the
    school's borough), marked when no agreement covers them. With needed domains chosen, the
    same filter holds for both kinds of row: a service that offers one of them, and an
    organisation (referred to as a whole) that has such a service there. Returns (choices,
    rows, borough code) where rows describe each choice for the page."""
    borough_code = (
        case.student.home_borough.region_code
        if case.student.home_borough_id
        else case.owner.region_code
    )
    services = list(
        Service.objects.filter(active=True, organization__active=True)
        .filter(boroughs__region_code=borough_code)
        .select_related("organization")
        .order_by("organization__name", "name")
        .distinct()
    )
    wanted = set(domains or [])
    matching = [s for s in services if not wanted or wanted & set(s.domains or [])]
    offered: dict = {}
    for service in matching:
        offered.setdefault(service.organization_id, set()).update(service.domains or [])
    orgs = (
        Organization.objects.filter(active=True, kind__in=PARTNER_KINDS)
        .filter(serves__region_code=borough_code)
        .order_by("name")
        .distinct()
    )
    if wanted:
        orgs = orgs.filter(pk__in=list(offered))
    rows = []
    agreements = {}

    def covered(org):
        if org.pk not in agreements:
            agreements[org.pk] = wf.agreement_for(sender, org) is not None
        return agreements[org.pk]

    for service in matching:
        rows.append(
            {
                "value": f"svc:{service.pk}",
                "label": f"{service.organization.name} · {service.name}",
                "domains": service.domains,
                "intake": service.get_intake_status_display(),
                "agreement": covered(service.organization),
            }
        )
    domain_order = list(Domain.values)
    for org in orgs:
        rows.append(
            {
                "value": f"org:{org.pk}",
                "label": org.name,
                "domains": sorted(offered.get(org.pk, ()), key=domain_order.index),
                "intake": "",
                "agreement": covered(org),
            }
        )
    choices = [(r["value"], r["label"]) for r in rows]
    return choices, rows, borough_code


def _resolve_target(value: str):
    kind, _sep, pk = (value or "").partition(":")
    try:
        if kind == "svc":
            service = Service.objects.select_related("organization").get(pk=pk, active=True)
            return service.organization, service
        if kind == "org":
            return Organization.objects.get(pk=pk, active=True), None
    except (Service.DoesNotExist, Organization.DoesNotExist, ValueError, ValidationError):
        pass
    return None, None


@login_required
def referral_new(request, pk):
    """Refer from the case page: pick a partner or service from the directory filtered by the
    student's borough and the needed domain, tick the fields to share, preview exactly what the
    receiver will see, then send (or keep a draft)."""
    case = visible_case_or_404(request, pk)
    sender = wf.sending_organization(request.user, case)
    if sender is None:
        raise PermissionDenied(_("이 사례의 의뢰는 사례 담당자만 작성할 수 있습니다."))
    data = request.POST if request.method == "POST" else None
    source = data or request.GET
    domains = source.getlist("requested_domains") or list(case.domains or [])
    choices, rows, borough_code = directory_targets(case, sender, domains)
    escalation_to = wf.escalation_target(case) if sender.pk == case.owner_id else None
    kind = source.get("kind", "service")
    # The receiver, once known (an escalation's office, a chosen directory entry): the default
    # fields are those its agreement allows, and the page says which consent covers it.
    receiver = escalation_to if kind == "escalation" else _resolve_target(source.get("target"))[0]
    initial = {
        "requested_domains": domains,
        "shared_fields": wf.default_shared_fields(sender, receiver)
        if receiver is not None
        else list(wf.NON_SENSITIVE_DEFAULTS),
        "kind": kind,
        "target": source.get("target", ""),
    }
    form = ReferralForm(data, initial=initial, targets=choices)
    preview = None
    if data is not None and form.is_valid():
        cleaned = form.cleaned_data
        if cleaned["kind"] == "escalation":
            to, service = escalation_to, None
        else:
            to, service = _resolve_target(cleaned["target"])
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
            intent = data.get("intent", "preview")
            if intent == "preview":
                preview = _preview(request, case, args)
            else:
                referral = attempt(request, _create, case, request.user, args, intent == "send")
                if referral is not None:
                    text = (
                        _("의뢰를 보냈습니다: %(number)s")
                        if referral.status == ReferralStatus.SENT
                        else _("의뢰를 임시 저장했습니다: %(number)s")
                    )
                    messages.success(request, text % {"number": referral.number})
                    return redirect("casework:referral_detail", pk=referral.pk)
    log(request, "view", "referral_form", [case], case=case, student=case.student)
    catalogue = packet_fields()
    return render(
        request,
        "casework/referral_new.html",
        {
            "case": case,
            "sender": sender,
            "form": form,
            "rows": rows,
            "borough_code": borough_code,
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
        "purpose": wf.consent_purpose_label(receiver),
        "covering": list(wf.consents_covering(case, receiver).values()),
        "missing": wf.missing_consent(case, receiver),
    }


def _create(case, user, args, send):
    with transaction.atomic():
        referral = wf.create_referral(case, by=user, **args)
        if send:
            referral = wf.send_referral(referral, by=user)
    return referral


def _preview(request, case, args):
    """Run every guard and take the packet as sending would, then roll back."""
    try:
        with transaction.atomic():
            referral = wf.create_referral(case, by=request.user, **args)
            referral.agreement = wf._check_fields(referral, at_send=True)
            wf._check_legal_basis(referral)
            raise _Preview(referral, packets.build_packet(referral))
    except _Preview as done:
        return {
            "to": done.referral.to_organization,
            "service": done.referral.service,
            "rows": packets.display_rows(done.packet),
            "respond_by": done.referral.respond_by
            or deadlines.default_respond_by(done.referral.urgency),
            "legal_basis": done.referral.get_legal_basis_display(),
        }
    except WorkflowError as exc:
        messages.error(request, exc.message)
    except Exception as exc:  # ValidationError
        for text in getattr(exc, "messages", [str(exc)]):
            messages.error(request, text)
    return None


# --- Inbox and outbox -------------------------------------------------------------------------


@login_required
def referral_list(request):
    """받은 의뢰 (inbox: the district centre's escalations, a partner's referrals) and 보낸 의뢰
    (outbox), with status, kind and overdue filters."""
    inbox = access.received_referrals(request.user)
    box = request.GET.get("box") or ("inbox" if inbox.exists() else "outbox")
    shown = Q()
    status = request.GET.get("status", "open")
    if status == "open":
        shown &= Q(status__in=OPEN_STATUSES)
    elif status in ReferralStatus.values:
        shown &= Q(status=status)
    kind = request.GET.get("kind")
    if kind in ("escalation", "service"):
        shown &= Q(kind=kind)
    overdue_only = request.GET.get("overdue") == "1"
    today = deadlines.today()
    late = Q(status__in=AWAITING_RESPONSE, respond_by__lt=today)
    if overdue_only:
        shown &= late
    if box == "inbox":
        # The page's count and the inbox's overdue count in one pass over the inbox.
        counts = inbox.aggregate(shown=Count("pk", filter=shown), late=Count("pk", filter=late))
        rows, total, overdue_count = inbox.filter(shown), counts["shown"], counts["late"]
    else:
        rows, total = access.sent_referrals(request.user).filter(shown), None
        overdue_count = inbox.filter(late).count()
    page = SlimPaginator(
        selectors.list_rows(
            rows,
            case="case",
            case__student="student",
            from_organization="organization",
            to_organization="organization",
            service="service",
            assignee="user",
        ).order_by("-created_at", "-pk"),
        PAGE_SIZE,
        count=total,
    ).get_page(request.GET.get("page"))
    full = set(
        access.visible_cases(request.user)
        .filter(pk__in={r.case_id for r in page})
        .values_list("pk", flat=True)
    )
    entries = [
        {
            "referral": r,
            "full": r.case_id in full,
            "student": r.case.student.name
            if r.case_id in full
            else ((r.packet or {}).get("fields", {}).get("student_name") or _("(공유되지 않음)")),
            "overdue": r.is_overdue(today),
        }
        for r in page
    ]
    log(request, "list", "referral", list(page))
    return render(
        request,
        "casework/referral_list.html",
        {
            "box": box,
            "page": page,
            "entries": entries,
            "status": status,
            "kind": kind or "",
            "overdue_only": overdue_only,
            "overdue_count": overdue_count,
            "statuses": ReferralStatus.choices,
        },
    )


@login_required
def referral_badge(request):
    """The menu's count of received referrals past their respond-by date (htmx)."""
    count = (
        access.received_referrals(request.user)
        .filter(status__in=AWAITING_RESPONSE, respond_by__lt=deadlines.today())
        .count()
    )
    return HttpResponse(str(count) if count else "")


# --- One referral -----------------------------------------------------------------------------


def visible_referral_or_404(request, pk) -> Referral:
    referral = access.visible_referrals(request.user).filter(pk=pk).select_related(*RELATED).first()
    if referral is None:
        raise Http404
    return referral


@login_required
def referral_detail(request, pk):
    referral = visible_referral_or_404(request, pk)
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


@login_required
@require_POST
def referral_action(request, pk, action):
    referral = visible_referral_or_404(request, pk)
    form = ReferralDecisionForm(request.POST)
    form.is_valid()
    text = form.cleaned_data.get("text") or ""
    version = form.cleaned_data.get("version")
    by = request.user
    done = None
    if action == "send":
        done = attempt(request, wf.send_referral, referral, by=by, version=version)
    elif action == "open":
        done = attempt(request, wf.open_referral, referral, by=by)
    elif action == "accept":
        done = attempt(request, wf.accept_referral, referral, by=by, reasons=text, version=version)
    elif action == "decline":
        done = attempt(request, wf.decline_referral, referral, by=by, reason=text, version=version)
    elif action == "start":
        done = attempt(request, wf.start_referral, referral, by=by, version=version)
    elif action == "complete":
        done = attempt(
            request, wf.complete_referral, referral, by=by, outcome=text, version=version
        )
    elif action == "cancel":
        done = attempt(request, wf.cancel_referral, referral, by=by, reason=text, version=version)
    elif action == "assign":
        assignee = User.objects.filter(pk=request.POST.get("assignee") or None).first()
        if assignee is None:
            messages.error(request, _("담당자를 고르세요."))
        else:
            done = attempt(request, wf.assign_referral, referral, by=by, assignee=assignee)
    elif action == "message":
        message_form = MessageForm(request.POST)
        if message_form.is_valid():
            done = attempt(request, wf.post_message, referral, by=by, **message_form.cleaned_data)
        else:
            messages.error(request, _("메시지 내용을 적어 주세요."))
    else:
        raise Http404
    if done is not None and action != "message":
        messages.success(
            request, _("의뢰 상태: %(status)s") % {"status": done.get_status_display()}
        )
    if not access.visible_referrals(by).filter(pk=referral.pk).exists():
        return redirect("casework:referral_list")
    return redirect("casework:referral_detail", pk=referral.pk)


# --- Consent withdrawal and transfers from the case page -------------------------------------


@login_required
@require_POST
def consent_withdraw(request, pk, consent_pk):
    case = visible_case_or_404(request, pk)
    consent = Consent.objects.filter(case=case, pk=consent_pk).first()
    if consent is None:
        raise Http404
    reason = request.POST.get("reason", "")
    before = set(case.referrals.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
    if attempt(request, records.withdraw_consent, consent, by=request.user, reason=reason):
        after = set(case.referrals.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
        messages.success(
            request,
            _("동의 철회를 기록했습니다. 취소된 의뢰: %(n)s건") % {"n": len(before - after)},
        )
    return redirect(f"/casework/cases/{case.pk}/#consents")


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
    claim = access.visible_claims(request.user).filter(pk=pk).first()
    if claim is None:
        raise Http404
    workflow = {"confirm": transfers.confirm_claim, "decline": transfers.decline_claim}.get(action)
    if workflow is None:
        raise Http404
    kwargs = {} if action == "confirm" else {"reason": request.POST.get("reason", "")}
    done = attempt(request, workflow, claim, by=request.user, **kwargs)
    if done is not None:
        messages.success(
            request, _("전학 이관 확인 요청: %(status)s") % {"status": done.get_status_display()}
        )
    return redirect("casework:transfer_list")


@login_required
@require_POST
def transfer_request(request, pk):
    from casework.forms import TransferForm

    case = visible_case_or_404(request, pk)
    form = TransferForm(request.POST)
    if form.is_valid():
        if attempt(
            request,
            transfers.request_transfer,
            case,
            by=request.user,
            to_school=form.cleaned_data["to_school"],
            reason=form.cleaned_data["reason"],
        ):
            messages.success(
                request, _("전학 이관을 요청했습니다. 전학 간 학교의 수락을 기다립니다.")
            )
    else:
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, text)
    return redirect("casework:case_detail", pk=case.pk)


@login_required
@require_POST
def transfer_action(request, pk, action):
    transfer = access.visible_transfers(request.user).filter(pk=pk).first()
    if transfer is None:
        raise Http404
    reason = request.POST.get("reason", "")
    workflow = {
        "accept": transfers.accept_transfer,
        "decline": transfers.decline_transfer,
        "cancel": transfers.cancel_transfer,
    }.get(action)
    if workflow is None:
        raise Http404
    kwargs = {} if action == "accept" else {"reason": reason}
    done = attempt(request, workflow, transfer, by=request.user, **kwargs)
    if done is not None:
        messages.success(
            request, _("전학 이관: %(status)s") % {"status": done.get_status_display()}
        )
        if action == "accept":
            return redirect("casework:case_detail", pk=transfer.case_id)
    return redirect("casework:transfer_list")
