"""Request bodies larger than the limits are refused from their Content-Length, before anything
reads them (docs/api.md "Limits", docs/operations.md "Limits and timeouts"): a file upload
(multipart) past UPLOAD_MAX_BYTES, any other body past DATA_UPLOAD_MAX_MEMORY_SIZE. A body sent
without a length (chunked) is bounded while it is read: `BoundedUploadHandler` stops a file
past UPLOAD_MAX_BYTES, and Django refuses a form or JSON body past DATA_UPLOAD_MAX_MEMORY_SIZE."""

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from core.params import is_api


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f}MB"


def body_limit(request) -> int:
    if (request.META.get("CONTENT_TYPE") or "").startswith("multipart/"):
        return settings.UPLOAD_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class BodySizeMiddleware:
    """413 with a message for a request whose Content-Length is past its limit. First in
    MIDDLEWARE, so no other middleware reads the body before."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request)
        if length > limit:
            message = _("요청이 너무 큽니다 (%(size)s, 최대 %(max)s).") % {
                "size": _megabytes(length),
                "max": _megabytes(limit),
            }
            if is_api(request):
                return JsonResponse(
                    {"detail": message}, status=413, json_dumps_params={"ensure_ascii": False}
                )
            # Before the session and the user are known: a plain answer, not the site's page.
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class BoundedUploadHandler(TemporaryFileUploadHandler):
    """A file upload that is sent past UPLOAD_MAX_BYTES without a Content-Length saying so is
    cut off: the upload stops and the view sees no file."""

    def new_file(self, *args, **kwargs):
        self.received = 0
        return super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)
