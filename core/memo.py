"""A memo that lasts one request.

The header, the menu, the access log and every access query of a page may need the same few
rows. Inside a request (`RequestMemoMiddleware`, or a `request_memo()` block) a module keeps what
it read under a name of its own until the response is sent, and forgets it when the rows change.
Outside a request (commands, Celery tasks, tests calling code directly) there is no memo:
`memo()` answers None and callers ask the database.
"""

from contextlib import contextmanager
from contextvars import ContextVar

_memo: ContextVar[dict | None] = ContextVar("ieum_request_memo", default=None)


@contextmanager
def request_memo():
    """Keep what is memoised in this block (one request) until it ends."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


class RequestMemoMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_memo():
            return self.get_response(request)


def in_request() -> bool:
    """Whether a memo is kept (inside a request or a `request_memo()` block)."""
    return _memo.get() is not None


def memo(name: str) -> dict | None:
    """The memo kept under `name` (empty at first), or None outside a request."""
    store = _memo.get()
    if store is None:
        return None
    return store.setdefault(name, {})


def forget(name: str) -> None:
    """Drop what is kept under `name` (the rows it holds have changed)."""
    store = _memo.get()
    if store is not None:
        store.pop(name, None)
