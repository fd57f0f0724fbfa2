"""Aggregate reports over the API (API.md: GET /api/v1/reports/summary/; docs/reports.md)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access
from casework.reports import filters, summary


class ReportSummary(APIView):
    """Grouped counts of the cases of the schools the reader may count, with small cells
    suppressed: the analyst their province, a centre head their office, a principal their
    school; anyone else 403. No person is named, so the read writes no access event."""

    @extend_schema(
        operation_id="reports_summary",
        parameters=[
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(summary.GROUPS)),
            OpenApiParameter("since", OpenApiTypes.DATE),
            OpenApiParameter("until", OpenApiTypes.DATE),
            OpenApiParameter("half", OpenApiTypes.STR, description="2026H1, 2026H2, ..."),
            OpenApiParameter("district", OpenApiTypes.UUID),
            OpenApiParameter("school_level", OpenApiTypes.STR),
            OpenApiParameter("domain", OpenApiTypes.STR),
            OpenApiParameter("difficulty", OpenApiTypes.STR),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        scope = access.report_scope(request.user)
        if scope is None:
            raise PermissionDenied(_("통계 보고서를 볼 권한이 없습니다."))
        try:
            asked = filters.read(request.query_params, scope, timezone.localdate())
        except ValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        report = summary.summary(asked.schools, asked.group, asked.period, asked.only)
        response = Response(report)
        response["Cache-Control"] = "no-store"
        return response
