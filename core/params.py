"""Query and form values as views read them, and the answer to values no view can take.

A search box, a filter link or a form field is typed by someone, or by a script probing the
site; what it sends reaches a database query. Two things stand between the two, for every page
and every API view at once:

- `BadInputMiddleware` answers 400 to a request with a NUL character in any query or form name
  or value, or in a JSON body. PostgreSQL cannot compare or store text holding NUL, so such a
  value would otherwise fail deep in a query, as a 500. The middleware also turns a Django
  `ValidationError` that escapes a page view (a malformed id or date in a filter or a form that
  the view did not catch) into a 400 page with its message; the API's exception handler
  (config/api.py) does the same for API views.
- `integer` and `page_number` read one number or raise `BadParameter` (a `ValidationError`
  naming the parameter, so a 400 with the message beside the field), and refuse numbers no
  database column holds.
"""

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

NUL = "\x00"
# The largest value of a PostgreSQL integer column; filters on bigger numbers cannot match and
# would be refused by the database itself.
INT_MAX = 2**31 - 1
# A page number past this is past the end of any list (25-200 rows a page): reading the rows
# would ask the database for an offset it refuses.
PAGE_MAX = 10_000_000


class BadParameter(ValidationError):
    """A query or form value that cannot be read: 400, with the message under its name."""

    def __init__(self, name: str, message):
        super().__init__({name: [str(message)]}, code="invalid")


def integer(value, name: str, *, label=None, low: int = 0, high: int = INT_MAX) -> int | None:
    """`value` (a query or form string) as an int in [low, high]; None for a blank value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip()
        # isdecimal, not isdigit: int() refuses "²"; a few digits more than INT_MAX is enough.
        digits = text.removeprefix("-")
        if not digits.isdecimal() or len(digits) > 12:
            raise BadParameter(
                name, _("%(label)s은(는) 숫자로 적어 주세요.") % {"label": label or name}
            )
        number = int(text)
    if not low <= number <= high:
        raise BadParameter(
            name,
            _("%(label)s은(는) %(low)s부터 %(high)s까지의 숫자여야 합니다.")
            % {"label": label or name, "low": f"{low:,}", "high": f"{high:,}"},
        )
    return number


def page_number(value, *, last: int | None = None) -> int:
    """A page number from `?page=`: 1 when absent, else a whole number from 1 to `last` (or
    PAGE_MAX when the number of pages is not known)."""
    if value in (None, ""):
        return 1
    high = PAGE_MAX if last is None else max(last, 1)
    text = str(value).strip()
    if not text.isdecimal() or len(text) > 12 or not 1 <= int(text) <= high:
        raise BadParameter("page", invalid_page_message(high))
    return int(text)


def invalid_page_message(last: int) -> str:
    return _("페이지 번호는 1부터 %(last)s까지의 숫자여야 합니다.") % {"last": f"{last:,}"}


# --- The middleware ----------------------------------------------------------------------------


def nul_message() -> str:
    return _("허용되지 않는 문자(NUL)가 들어 있습니다. 입력한 값을 확인해 주세요.")


def _nul_in(data) -> str | None:
    """The name of the first field of a QueryDict holding a NUL in its name or a value."""
    for name, values in data.lists():
        if NUL in name:
            return "detail"
        for value in values:
            if isinstance(value, str) and NUL in value:
                return name
    return None


def _nul_in_json(body: bytes) -> bool:
    # A raw NUL is not JSON at all (the parser answers 400); an escaped one decodes to a NUL.
    return b"\\u0000" in body


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, errors: dict[str, list[str]]):
    """400: the API's `{field: [message]}` / `{detail}` body, or the site's error page."""
    if is_api(request):
        body = {
            name: (" ".join(messages) if name == "detail" else messages)
            for name, messages in errors.items()
        }
        return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
    messages = [message for values in errors.values() for message in values]
    return render(request, "400.html", {"error_messages": messages}, status=400)


class BadInputMiddleware:
    """Refuses NUL characters in query strings, forms and JSON bodies with 400, and answers a
    `ValidationError` escaping a page view with a 400 page. Sits after the authentication and
    message middleware, so that the error page shows the site's header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = _nul_in(request.GET)
        if name is None and request.method == "POST":
            content_type = request.content_type or ""
            if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                name = _nul_in(request.POST)
        if name is None and "json" in (request.content_type or "") and request.body:
            name = "detail" if _nul_in_json(request.body) else None
        if name is not None:
            return bad_request(request, {name: [nul_message()]})
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, ValidationError) and not is_api(request):
            if hasattr(exception, "error_dict"):
                errors = {
                    name: [str(m) for e in errors for m in e.messages]
                    for name, errors in exception.error_dict.items()
                }
            else:
                errors = {"detail": [str(m) for m in exception.messages]}
            return bad_request(request, errors)
        return None
