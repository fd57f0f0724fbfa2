"""The committee report over the API (API.md: GET /api/v1/reports/committee/; docs/reports.md)."""

import uuid

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access
from casework.reports import committee
from core import exportfiles

from .common import log_read

CONTENT_TYPES = {"xlsx": exportfiles.XLSX_TYPE, "pdf": "application/pdf"}


def _office(offices, params):
    """The office of `?office=` among `offices` (those the user may request): 400 when missing
    or not an id, 404 when it is not one of them (the same answer for an office that does not
    exist)."""
    value = (params.get("office") or "").strip()
    if not value:
        raise exceptions.ValidationError({"office": [_("기관(교육지원청)을 정해 주세요.")]})
    try:
        pk = uuid.UUID(value)
    except ValueError:
        raise exceptions.ValidationError({"office": [_("기관 ID가 올바르지 않습니다.")]}) from None
    office = offices.filter(pk=pk).first()
    if office is None:
        raise Http404
    return office


def _half(params, today) -> committee.Half:
    value = (params.get("half") or "").strip()
    if not value:
        return committee.Half.of(today)
    try:
        half = committee.Half.parse(value)
    except ValueError:
        raise exceptions.ValidationError(
            {"half": [_("반기는 2026H1, 2026H2처럼 적어 주세요.")]}
        ) from None
    if half.since > today:
        raise exceptions.ValidationError({"half": [_("아직 시작하지 않은 반기입니다.")]})
    return half


class CommitteeReport(APIView):
    """The 지역위원회 half-year report of one office (a district office, or a provincial office
    for the 시·도위원회): the analyst for their province and its offices, a centre head for their
    office; anyone else 403, another office 404. As JSON, or as a file (`xlsx`, `pdf`) carrying
    the requester's watermark, whose download is logged."""

    @extend_schema(
        operation_id="reports_committee",
        parameters=[
            OpenApiParameter("office", OpenApiTypes.UUID, required=True),
            OpenApiParameter("half", OpenApiTypes.STR, description="YYYYH1 or YYYYH2"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(committee.FORMATS)),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        offices = access.committee_offices(request.user)
        if offices is None:
            raise PermissionDenied(_("위원회 보고서를 볼 권한이 없습니다."))
        params = request.query_params
        wanted = (params.get("format") or "json").strip()
        if wanted not in committee.FORMATS:
            raise exceptions.ValidationError(
                {"format": [_("json, xlsx, pdf 중 하나로 적어 주세요.")]}
            )
        today = timezone.localdate()
        half = _half(params, today)
        office = _office(offices, params)
        schools = list(access.committee_schools(office).values_list("pk", flat=True))
        data = committee.report(office, schools, half, today)
        response = Response(data) if wanted == "json" else self._file(request, office, data, wanted)
        response["Cache-Control"] = "no-store"
        return response

    def _file(self, request, office, data: dict, wanted: str) -> HttpResponse:
        user = request.user
        produced_at = timezone.now()
        name = user.get_full_name() or user.get_username()
        organization = access.committee_requester_organization(user, office)
        mark = exportfiles.watermark(
            name, organization.name if organization else "", produced_at, committee.DOWNLOAD_REASON
        )
        if wanted == "xlsx":
            content = committee.xlsx_file(data, mark, produced_at)
        else:
            content = committee.pdf_file(data, mark, produced_at, name)
        # The file holds aggregates only, but it leaves the system: its download is logged with
        # the report's office as the object (DESIGN.md §10).
        log_read(
            request,
            "download",
            committee.OBJECT_TYPE,
            [office],
            reason=committee.DOWNLOAD_REASON,
        )
        response = HttpResponse(content, content_type=CONTENT_TYPES[wanted])
        filename = committee.filename(data, wanted)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
