"""Who signs in with a second factor, the login's code step, and the middleware that holds every
session to it (DESIGN.md §9 strong authentication).

- A person with a confirmed TOTP device gives a code (or a recovery code) after the password,
  on every login, whatever MFA_REQUIRED says.
- With MFA_REQUIRED on, everyone who handles personal data (an active membership; superusers,
  who can grant memberships) must have one: until they enrol, every page sends them to the setup
  page and the API answers 403 `{"mfa_required": true}`.
- A session signed in without a code (an older session, the admin's own login form) of someone
  who needs one is treated the same way until it is verified on the setup page.
"""

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login

from .memberships import active_memberships_of
from .models import User
from .second_factor import has_second_factor

# The session's memory of whether its user has a second factor, so that a session signed in
# without one costs no query per request. Enrolment and removal in this session update it;
# one made in another session shows at the next login.
SESSION_ENROLLED = "_second_factor_enrolled"
# A login waiting for its code: the user whose password was right, not yet signed in.
SESSION_PENDING = "_second_factor_pending"
# What stays usable before the second factor: signing in and out, enrolling, the language.
OPEN_VIEWS = frozenset(
    {
        "login",
        "login_code",
        "logout",
        "mfa_setup",
        "passkey_register_options",
        "passkey_register",
        "passkey_login_options",
        "passkey_login",
        "set_language",
        "health",
        "api-token",
        "api-schema",
        "api-docs",
    }
)


def handles_personal_data(user: User) -> bool:
    return user.is_superuser or bool(active_memberships_of(user))


def enrolment_required(user: User) -> bool:
    return settings.MFA_REQUIRED and handles_personal_data(user)


def second_factor_due(user: User) -> bool:
    """Whether signing this user in takes a code: they have a factor, or must have one."""
    return has_second_factor(user) or enrolment_required(user)


def is_verified(request) -> bool:
    verified = getattr(request.user, "is_verified", None)
    return bool(verified and verified())


def remember_enrolment(request, enrolled: bool) -> None:
    request.session[SESSION_ENROLLED] = enrolled


def _enrolled(request) -> bool:
    enrolled = request.session.get(SESSION_ENROLLED)
    if enrolled is None:
        enrolled = has_second_factor(request.user)
        remember_enrolment(request, enrolled)
    return enrolled


def needs_second_factor(request) -> bool:
    """A signed-in session that has not shown a code although its user needs one."""
    user = request.user
    if not user.is_authenticated or is_verified(request):
        return False
    return enrolment_required(user) or _enrolled(request)


def verified_with(request, device) -> None:
    """Mark the signed-in session as verified by `device` (a code it accepted)."""
    otp_login(request, device)
    remember_enrolment(request, True)


def safe_next(request, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse(settings.LOGIN_REDIRECT_URL)


# --- The login's code step --------------------------------------------------------------------


@dataclass
class PendingLogin:
    user: User
    backend: str
    next: str


def start_code_step(request, user: User, next_url: str) -> None:
    """After the right password: remember who is signing in, for MFA_LOGIN_SECONDS, without
    signing them in."""
    request.session[SESSION_PENDING] = {
        "user": str(user.pk),
        "backend": user.backend,
        "next": next_url,
        "until": int(time.time()) + settings.MFA_LOGIN_SECONDS,
    }


def pending_login(request) -> PendingLogin | None:
    """The login waiting for its code, or None (none, run out, or the account was disabled)."""
    pending = request.session.get(SESSION_PENDING)
    if not isinstance(pending, dict) or int(pending.get("until", 0)) < time.time():
        request.session.pop(SESSION_PENDING, None)
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None:
        request.session.pop(SESSION_PENDING, None)
        return None
    return PendingLogin(user=user, backend=pending["backend"], next=pending.get("next") or "")


def finish_login(request, pending: PendingLogin, device) -> None:
    """The code was right: sign the user in (a new session key) with the session verified."""
    request.session.pop(SESSION_PENDING, None)
    auth_login(request, pending.user, backend=pending.backend)
    verified_with(request, device)


# --- The middleware ---------------------------------------------------------------------------


class SecondFactorMiddleware:
    """Sends a session that needs a second factor to the setup page (pages) or answers 403
    `{"mfa_required": true}` (API), until it is verified. Sits after OTPMiddleware and the
    request memo (the memberships it reads are the header's)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.view_name in OPEN_VIEWS or not needs_second_factor(request):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "mfa_required": True,
                    "detail": _(
                        "2단계 인증이 필요합니다. 웹에서 인증 앱을 등록하거나 인증 코드로 로그인하세요."
                    ),
                },
                status=403,
            )
        if request.headers.get("HX-Request"):
            # A fragment (a badge, a filter) has no page to replace; the next page load goes
            # to the setup page.
            return HttpResponse(status=403)
        setup = reverse("mfa_setup")
        if request.method == "GET":
            return redirect(f"{setup}?{urlencode({'next': request.get_full_path()})}")
        return redirect(setup)
