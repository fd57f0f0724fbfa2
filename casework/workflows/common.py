"""Helpers every workflow uses: permission checks, optimistic locking, history attribution."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from casework import access
from core import params

from .errors import StaleVersion


def require_case_perm(user, perm: str, case) -> None:
    if not access.has_case_perm(user, perm, case):
        raise PermissionDenied(_("이 작업을 할 권한이 없습니다."))


def check_version(obj, version: int | None) -> None:
    """Optimistic locking: a write based on an old read answers 409."""
    if version in (None, ""):
        return
    if params.integer(version, "version", label=_("버전")) != obj.version:
        raise StaleVersion(_("다른 사용자가 먼저 수정했습니다. 새로 고친 뒤 다시 시도하세요."))


def attribute(obj, by, reason: str = "") -> None:
    """Name the actor and the reason in the history row the next save() writes (commands and
    Celery tasks have no request for simple-history's middleware to read)."""
    obj._history_user = by
    if reason:
        obj._change_reason = reason[:100]


def save(obj, by, reason: str = "", *, bump: bool = False) -> None:
    """Save with history attribution; `bump` advances the optimistic-locking version."""
    if bump:
        obj.version += 1
    attribute(obj, by, reason)
    obj.save()
