"""Password login with a lockout shared by the login page and the API token endpoint, and the
second factor's codes counted with the same lockout (DESIGN.md §6, §9)."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import passkeys, second_factor
from .models import LoginThrottle, User


@dataclass
class LoginResult:
    user: User | None
    locked: bool = False
    locked_until: object = None
    # Set when what failed was a second-factor code, not the password.
    code: bool = False
    # The second factor's device that accepted the code.
    device: object = None

    @property
    def message(self) -> str:
        if self.locked:
            minutes = max(1, round((self.locked_until - timezone.now()).total_seconds() / 60))
            return _(
                "로그인 실패가 반복되어 계정이 잠겼습니다. %(minutes)d분 뒤에 다시 시도하세요."
            ) % {"minutes": minutes}
        if self.code:
            return _("인증 코드가 올바르지 않습니다.")
        return _("아이디 또는 비밀번호가 올바르지 않습니다.")


def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _lock_of(key: str, now) -> LoginResult | None:
    throttle = LoginThrottle.objects.filter(username=key).first()
    if throttle and throttle.locked_until and throttle.locked_until > now:
        return LoginResult(user=None, locked=True, locked_until=throttle.locked_until)
    return None


def _count_failure(key: str, now) -> LoginThrottle:
    with transaction.atomic():
        throttle, _created = LoginThrottle.objects.select_for_update().get_or_create(username=key)
        if throttle.locked_until and throttle.locked_until <= now:
            throttle.failures = 0  # the previous lock has run out: start counting afresh
            throttle.locked_until = None
        throttle.failures += 1
        throttle.last_failure_at = now
        if throttle.failures >= settings.LOGIN_FAILURE_LIMIT:
            throttle.locked_until = now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        throttle.save()
    return throttle


def _clear_failures(key: str) -> None:
    LoginThrottle.objects.filter(username=key).delete()


def login_with_lockout(request, username: str, password: str) -> LoginResult:
    """Authenticate, counting failures per username in the database.

    After LOGIN_FAILURE_LIMIT consecutive failures the username is locked for
    LOGIN_LOCKOUT_MINUTES; while locked even the right password is refused. For an account with
    a second factor the right password alone does not clear the count: only the right code
    does, or else every retyped password would restart the count of wrong codes.
    """
    key = _key(username)
    now = timezone.now()
    locked = _lock_of(key, now)
    if locked:
        return locked

    user = authenticate(request, username=username, password=password)
    if user is not None:
        if not second_factor.has_second_factor(user):
            _clear_failures(key)
        return LoginResult(user=user)

    throttle = _count_failure(key, now)
    if throttle.locked_until:
        return LoginResult(user=None, locked=True, locked_until=throttle.locked_until)
    return LoginResult(user=None)


def verify_code_with_lockout(user: User, code: str) -> LoginResult:
    """Check a second-factor code (TOTP or recovery code) of a user whose password was right.

    A wrong code counts toward the same lockout as a wrong password, on the same username, and
    a locked account is refused even the right code."""
    return _checked_with_lockout(user, lambda: second_factor.verify_code(user, code))


def verify_passkey_with_lockout(request, user: User, credential) -> LoginResult:
    """Check a passkey's answer to the login's challenge, with the same lockout as a code. A
    challenge that ran out raises passkeys.PasskeyError and counts as no attempt."""
    return _checked_with_lockout(user, lambda: passkeys.authenticate(request, user, credential))


def _checked_with_lockout(user: User, check) -> LoginResult:
    key = _key(user.get_username())
    now = timezone.now()
    locked = _lock_of(key, now)
    if locked:
        return locked
    device = check()
    if device is not None:
        _clear_failures(key)
        return LoginResult(user=user, device=device)
    throttle = _count_failure(key, now)
    if throttle.locked_until:
        return LoginResult(user=None, locked=True, locked_until=throttle.locked_until, code=True)
    return LoginResult(user=None, code=True)
