import time

from django.conf import settings


class KoreanFirstMiddleware:
    """Pages speak Korean unless the user chose English with the language switch (a cookie);
    a browser's Accept-Language does not override that. The API follows Accept-Language
    (API.md "Errors": ko default, en), so this leaves /api/ requests alone.
    Sits before LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        response = self.get_response(request)
        if not request.path.startswith("/api/"):
            # The page no longer varies with Accept-Language, only with the cookie.
            vary = [v.strip() for v in response.get("Vary", "").split(",") if v.strip()]
            if "Accept-Language" in vary:
                vary.remove("Accept-Language")
                if "Cookie" not in vary:
                    vary.append("Cookie")
                response["Vary"] = ", ".join(vary)
        return response


class IdleSessionMiddleware:
    """Sessions end after SESSION_COOKIE_AGE of inactivity (PIPA safeguards). Saving the
    session on every request would write a row per request; instead an authenticated session is
    renewed when at least SESSION_REFRESH_SECONDS have passed since it was last renewed, so the
    idle clock is exact to within that interval. Sits after SessionMiddleware."""

    KEY = "_renewed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if now - int(session.get(self.KEY, 0)) >= settings.SESSION_REFRESH_SECONDS:
                session[self.KEY] = now  # modified: SessionMiddleware saves with a fresh expiry
        return self.get_response(request)
