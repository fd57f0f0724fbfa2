"""Sign-in (with its second factor), the second factor's own pages, the home page and the
organisation directory."""

import json

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Exists, OuterRef, Prefetch, Q, Value, When
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from . import mfa, passkeys, second_factor
from .authentication import verify_passkey_with_lockout
from .choices import PARTNER_KINDS
from .forms import (
    DirectoryFilterForm,
    EnrolmentForm,
    LockoutAuthenticationForm,
    SecondFactorCodeForm,
)
from .models import Membership, Organization, SecondFactorEvent, Service

DIRECTORY_PAGE_SIZE = 20
APPROVAL_WARNING_DAYS = 30
# The secret a setup page shows, kept until a code confirms it (never in the database before).
SETUP_SECRET = "_second_factor_setup_key"
# Recovery codes issued with a first passkey, kept until the page that shows them once.
NEW_CODES = "_second_factor_new_codes"
EVENTS_SHOWN = 10
# A WebAuthn credential is a few kilobytes at most; anything larger is not one.
CREDENTIAL_MAX_BYTES = 64 * 1024


class LoginView(auth_views.LoginView):
    """The password step; an account with a second factor goes on to the code step signed out."""

    form_class = LockoutAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if second_factor.has_second_factor(user):
            mfa.start_code_step(self.request, user, self.get_success_url())
            return redirect("login_code")
        response = super().form_valid(form)
        mfa.remember_enrolment(self.request, False)
        return response


class LoginCodeView(FormView):
    """The code step of a login: the session is signed in only once the code is right."""

    form_class = SecondFactorCodeForm
    template_name = "registration/login.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect(settings.LOGIN_REDIRECT_URL)
        self.pending = mfa.pending_login(request)
        if self.pending is None:
            minutes = max(1, settings.MFA_LOGIN_SECONDS // 60)
            messages.info(
                request,
                _(
                    "로그인을 다시 시작하세요. 인증 코드는 비밀번호를 확인한 뒤 %(minutes)d분 안에 입력해야 합니다."
                )
                % {"minutes": minutes},
            )
            return redirect("login")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.pending.user}

    def get_context_data(self, **kwargs):
        has_passkeys = second_factor.passkeys_of(self.pending.user).exists()
        return super().get_context_data(
            code_step=True,
            passkeys=has_passkeys,
            passkey_unavailable=passkeys.unavailable(self.request),
            **kwargs,
        )

    def form_valid(self, form):
        mfa.finish_login(self.request, self.pending, form.device)
        return redirect(mfa.safe_next(self.request, self.pending.next))

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code (made here, from our own data only)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=_("인증 앱 등록용 QR 코드"))
    return mark_safe(svg)  # segno's markup of our own URI: nothing typed by anyone


def _next_of(request) -> str:
    return request.POST.get("next") or request.GET.get("next") or ""


@login_required
def mfa_overview(request):
    """The signed-in person's second factor: whether it is set up, its recovery codes, its record."""
    return _overview(request, SecondFactorCodeForm(request.user))


def _overview(request, form, status=200):
    user = request.user
    device = second_factor.totp_devices(user).first()
    events = SecondFactorEvent.objects.filter(user=user).select_related("by")[:EVENTS_SHOWN]
    keys = list(second_factor.passkeys_of(user))
    context = {
        "device": device,
        "passkeys": keys,
        "passkey_unavailable": passkeys.unavailable(request),
        "codes_left": second_factor.recovery_codes_left(user) if device or keys else 0,
        "events": events,
        "required": mfa.enrolment_required(user),
        "form": form,
    }
    return render(request, "partners/mfa.html", context, status=status)


@login_required
def mfa_setup(request):
    """Enrol an authenticator app: its secret as text and QR code, confirmed by a first code,
    then the recovery codes shown once. Someone already enrolled whose session has shown no code
    gives one here."""
    if second_factor.has_second_factor(request.user) and not mfa.is_verified(request):
        return _verify_session(request)
    if second_factor.totp_devices(request.user).exists():
        return redirect("mfa")
    key = request.session.get(SETUP_SECRET)
    if not key:
        key = request.session[SETUP_SECRET] = second_factor.new_secret()
    device = second_factor.provisioning_device(request.user, key)
    form = EnrolmentForm(device, request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, codes = second_factor.enrol_device(device, by=request.user)
        request.session.pop(SETUP_SECRET, None)
        mfa.verified_with(request, device)
        return render(
            request,
            "partners/mfa_codes.html",
            {"codes": codes, "enrolled": True, "next": mfa.safe_next(request, _next_of(request))},
        )
    context = {
        "form": form,
        "secret": second_factor.base32_secret(key),
        "qr": qr_svg(device.config_url),
        "required": mfa.enrolment_required(request.user),
        "next": _next_of(request),
        "passkey_unavailable": passkeys.unavailable(request),
    }
    return render(request, "partners/mfa_setup.html", context, status=400 if form.errors else 200)


def _verify_session(request):
    form = SecondFactorCodeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        mfa.verified_with(request, form.device)
        return redirect(mfa.safe_next(request, _next_of(request)))
    return render(
        request,
        "partners/mfa_verify.html",
        {
            "form": form,
            "next": _next_of(request),
            "passkeys": second_factor.passkeys_of(request.user).exists(),
            "passkey_unavailable": passkeys.unavailable(request),
        },
        status=400 if form.errors else 200,
    )


@login_required
def mfa_remove(request):
    """Remove the second factor, on a current code (or a recovery code, when the phone is lost)."""
    if not second_factor.has_second_factor(request.user):
        return redirect("mfa")
    form = SecondFactorCodeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        second_factor.remove_second_factor(request.user, by=request.user)
        mfa.remember_enrolment(request, False)
        messages.success(request, _("2단계 인증을 해제했습니다. 인증 앱의 이음 항목도 지우세요."))
        return redirect("mfa")
    return render(
        request, "partners/mfa_remove.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def mfa_recovery_codes(request):
    """New recovery codes, on a current code; the old ones stop working."""
    if not second_factor.has_second_factor(request.user):
        return redirect("mfa")
    form = SecondFactorCodeForm(request.user, request.POST)
    if not form.is_valid():
        return _overview(request, form, status=400)
    codes = second_factor.issue_recovery_codes(request.user, by=request.user)
    return render(request, "partners/mfa_codes.html", {"codes": codes, "enrolled": False})


# --- Passkeys -----------------------------------------------------------------------------------
# The browser's side is static/js/passkeys.js: it asks for options, lets the authenticator answer
# and posts the answer as JSON. Every answer here is JSON with `detail` on failure (400).


def _json_body(request) -> dict:
    if len(request.body) > CREDENTIAL_MAX_BYTES:
        raise passkeys.PasskeyError(_("요청이 너무 큽니다."))
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as error:
        raise passkeys.PasskeyError(_("요청 형식이 올바르지 않습니다.")) from error
    if not isinstance(body, dict) or not isinstance(body.get("credential", {}), dict):
        raise passkeys.PasskeyError(_("요청 형식이 올바르지 않습니다."))
    return body


def _refused(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"detail": str(message)}, status=status)


def _may_enrol(request) -> bool:
    """Adding a factor to an account that has one takes a verified session."""
    return mfa.is_verified(request) or not second_factor.has_second_factor(request.user)


@login_required
@require_POST
def passkey_register_options(request):
    if not _may_enrol(request):
        return _refused(_("먼저 지금 쓰는 2단계 인증으로 확인하세요."), status=403)
    try:
        options = passkeys.registration_options(request, request.user)
    except passkeys.PasskeyError as error:
        return _refused(error)
    return JsonResponse(json.loads(options))


@login_required
@require_POST
def passkey_register(request):
    """Keep a new passkey; a first factor goes on to its recovery codes, shown once."""
    if not _may_enrol(request):
        return _refused(_("먼저 지금 쓰는 2단계 인증으로 확인하세요."), status=403)
    try:
        body = _json_body(request)
        passkey, codes = passkeys.register(
            request, request.user, body.get("credential") or {}, str(body.get("name") or "")
        )
    except passkeys.PasskeyError as error:
        return _refused(error)
    mfa.verified_with(request, passkey)
    if codes:
        request.session[NEW_CODES] = {"codes": codes, "next": str(body.get("next") or "")}
        return JsonResponse({"redirect": reverse("mfa_new_codes")})
    messages.success(request, _("패스키 '%(name)s'을(를) 등록했습니다.") % {"name": passkey.name})
    return JsonResponse({"redirect": reverse("mfa")})


@login_required
def mfa_new_codes(request):
    """The recovery codes issued with a first passkey, shown once."""
    kept = request.session.pop(NEW_CODES, None)
    if not isinstance(kept, dict):
        return redirect("mfa")
    context = {
        "codes": kept["codes"],
        "enrolled": True,
        "next": mfa.safe_next(request, kept.get("next")),
    }
    return render(request, "partners/mfa_codes.html", context)


@login_required
@require_POST
def passkey_remove(request, passkey_id: int):
    if passkeys.remove(request.user, passkey_id, by=request.user):
        mfa.remember_enrolment(request, second_factor.has_second_factor(request.user))
        messages.success(request, _("패스키를 삭제했습니다. 기기에 남은 이음 패스키도 지우세요."))
    else:
        messages.error(request, _("삭제할 패스키를 찾지 못했습니다."))
    return redirect("mfa")


def _passkey_signer(request):
    """Who a passkey answer would verify: the login waiting for its second step, or a signed-in
    session that has not been verified yet."""
    if request.user.is_authenticated:
        return None if mfa.is_verified(request) else request.user
    pending = mfa.pending_login(request)
    return pending.user if pending else None


@require_POST
def passkey_login_options(request):
    user = _passkey_signer(request)
    if user is None or not second_factor.passkeys_of(user).exists():
        return _refused(_("로그인을 다시 시작하세요."), status=403)
    try:
        options = passkeys.authentication_options(request, user)
    except passkeys.PasskeyError as error:
        return _refused(error)
    return JsonResponse(json.loads(options))


@require_POST
def passkey_login(request):
    """A passkey's answer at the login's second step (or for an unverified session): signed in
    and verified when the signature is right; a wrong one counts toward the lockout."""
    user = _passkey_signer(request)
    if user is None:
        return _refused(_("로그인을 다시 시작하세요."), status=403)
    try:
        body = _json_body(request)
        result = verify_passkey_with_lockout(request, user, body.get("credential") or {})
    except passkeys.PasskeyError as error:
        return _refused(error)
    if result.device is None:
        return _refused(result.message if result.locked else _("패스키를 확인하지 못했습니다."))
    if request.user.is_authenticated:
        mfa.verified_with(request, result.device)
        return JsonResponse({"redirect": mfa.safe_next(request, body.get("next"))})
    pending = mfa.pending_login(request)
    mfa.finish_login(request, pending, result.device)
    return JsonResponse({"redirect": mfa.safe_next(request, pending.next)})


def directory_results(params) -> tuple[DirectoryFilterForm, object]:
    form = DirectoryFilterForm(params or None)
    orgs = Organization.objects.filter(active=True).exclude(kind="ministry")
    services = Service.objects.filter(active=True).order_by("name")
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"].strip()
            orgs = orgs.filter(Q(name__icontains=q) | Q(services__name__icontains=q)).distinct()
        if data["kind"]:
            orgs = orgs.filter(kind=data["kind"])
        if data["borough"]:
            orgs = orgs.filter(
                pk__in=Organization.objects.active_in_borough(data["borough"]).values("pk")
            )
        if data["domain"]:
            matching = [data["domain"]]
            orgs = orgs.filter(services__domains__contains=matching).distinct()
            services = services.filter(domains__contains=matching)
    orgs = orgs.select_related("parent").prefetch_related(Prefetch("services", queryset=services))
    # Those who provide services first: that is what a coordinator looking for help wants.
    providers_first = Case(When(kind__in=PARTNER_KINDS, then=Value(0)), default=Value(1))
    offers = Exists(Service.objects.filter(organization=OuterRef("pk"), active=True))
    orgs = orgs.order_by(offers.desc(), providers_first, "kind", "name")
    page = Paginator(orgs, DIRECTORY_PAGE_SIZE).get_page(params.get("page"))
    return form, page


@login_required
def home(request):
    today = timezone.localdate()
    memberships = list(
        Membership.objects.filter(user=request.user).select_related("organization", "approved_by")
    )
    for m in memberships:
        m.current = m.is_current(today)
        m.expiring = m.current and (m.approval_expires_on - today).days <= APPROVAL_WARNING_DAYS
        m.not_started = m.started_on > today
        m.ended = not m.active or (m.ended_on is not None and m.ended_on < today)
        m.training_lapsed = bool(settings.SECURITY_TRAINING_DAYS) and (
            m.training_due_on is None or m.training_due_on < today
        )
        m.training_expiring = (
            not m.training_lapsed
            and m.training_days_left is not None
            and m.training_days_left <= APPROVAL_WARNING_DAYS
        )
    # Decree 15⑥: training lapses yearly; warn a month ahead, and say why access stopped.
    training_due = [m for m in memberships if not m.ended and m.training_expiring]
    training_lapsed = [m for m in memberships if not m.ended and m.training_lapsed]
    form, page = directory_results(request.GET)
    return render(
        request,
        "partners/home.html",
        {
            "memberships": memberships,
            "training_due": training_due,
            "training_lapsed": training_lapsed,
            "form": form,
            "page": page,
            "today": today,
        },
    )


@login_required
def directory(request):
    form, page = directory_results(request.GET)
    template = (
        "partners/_directory.html"
        if request.headers.get("HX-Request")
        else "partners/directory.html"
    )
    return render(request, template, {"form": form, "page": page})
