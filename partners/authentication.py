"""Password login with a lockout shared by the login page and the API token endpoint."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import LoginThrottle, User


@dataclass
class LoginResult:
    user: User | None
    locked: bool = False
    locked_until: object = None

    @property
    def message(self) -> str:
        if self.locked:
            minutes = max(1, round((self.locked_until - timezone.now()).total_seconds() / 60))
            return _(
                "로그인 실패가 반복되어 계정이 잠겼습니다. %(minutes)d분 뒤에 다시 시도하세요."
            ) % {"minutes": minutes}
        return _("아이디 또는 비밀번호가 올바르지 않습니다.")


def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def login_with_lockout(request, username: str, password: str) -> LoginResult:
    """Authenticate, counting failures per username in the database.

    After LOGIN_FAILURE_LIMIT consecutive failures the username is locked for
    LOGIN_LOCKOUT_MINUTES; while locked even the right password is refused.
    """
    key = _key(username)
    now = timezone.now()
    throttle = LoginThrottle.objects.filter(username=key).first()
    if throttle and throttle.locked_until and throttle.locked_until > now:
        return LoginResult(user=None, locked=True, locked_until=throttle.locked_until)

    user = authenticate(request, username=username, password=password)
    if user is not None:
        LoginThrottle.objects.filter(username=key).delete()
        return LoginResult(user=user)

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
    if throttle.locked_until:
        return LoginResult(user=None, locked=True, locked_until=throttle.locked_until)
    return LoginResult(user=None)
