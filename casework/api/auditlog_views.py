"""The access-log search over the API (API.md: GET /api/v1/audit/access/)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access, auditlog
from casework.forms import AccessLogFilterForm, DownloadReasonForm
from core.params import integer

from .common import log_read


def _url(request, cursor: str) -> str:
    query = request.query_params.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(request.path + "?" + query.urlencode())


class AccessLog(APIView):
    """Access events newest first, filtered; the privacy officer of the provincial office above
    the organisations concerned (others 403). Reading the log is itself logged; `format=csv`
    with a `reason` downloads up to 10,000 rows, logged as a download with the reason."""

    @extend_schema(
        operation_id="audit_access_list",
        parameters=[
            OpenApiParameter("case", OpenApiTypes.STR, description="case id or number"),
            OpenApiParameter("student", OpenApiTypes.UUID),
            OpenApiParameter("user", OpenApiTypes.STR, description="user id or username"),
            OpenApiParameter("action", OpenApiTypes.STR),
            OpenApiParameter("since", OpenApiTypes.DATE),
            OpenApiParameter("until", OpenApiTypes.DATE),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="from `next`"),
            OpenApiParameter("page_size", OpenApiTypes.INT),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
            OpenApiParameter("reason", OpenApiTypes.STR, description="required with format=csv"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        if not access.may_read_access_log(request.user):
            raise PermissionDenied
        params = request.query_params
        filters = AccessLogFilterForm(params)
        if not filters.is_valid():
            raise exceptions.ValidationError(filters.errors)
        rows = auditlog.search(request.user, filters.cleaned_data)
        wanted = params.get("format") or "json"
        if wanted not in ("json", "csv"):
            raise exceptions.ValidationError({"format": [_("json 또는 csv만 됩니다.")]})
        if wanted == "csv":
            return self._download(request, rows)
        size = (
            integer(params.get("page_size"), "page_size", low=1, high=auditlog.PAGE_MAX_SIZE)
            or auditlog.PAGE_SIZE
        )
        page = auditlog.page_of(rows, params.get("cursor"), size)
        log_read(request, "search", "access_event", page.rows)
        return Response(
            {
                "next": _url(request, page.cursor) if page.cursor else None,
                "results": [auditlog.as_json(event) for event in page.rows],
            }
        )

    def _download(self, request, rows):
        form = DownloadReasonForm({"reason": request.query_params.get("reason", "")})
        if not form.is_valid():
            raise exceptions.ValidationError(
                {"reason": [_("내려받는 사유를 적어 주세요(500자 이내).")]}
            )
        reason = form.cleaned_data["reason"]
        events = auditlog.export_rows(rows)
        log_read(request, "download", "access_event", events, reason=reason)
        return auditlog.download_response(request.user, events, reason)
