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
