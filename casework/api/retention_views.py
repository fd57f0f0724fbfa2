"""The register of destruction over the API (API.md: GET /api/v1/audit/destructions/)."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access, destructions
from casework.forms import DestructionFilterForm
from casework.workflows import erasure


class DestructionRegister(APIView):
    """The privacy officer's register, newest first (at most 500 lines; narrow with `since`),
    and the forecast of the next 30 days."""

    @extend_schema(
        operation_id="audit_destructions_list",
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATE),
            OpenApiParameter("rule", OpenApiTypes.STR),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        if not access.may_read_access_log(request.user):
            raise PermissionDenied
        filters = DestructionFilterForm(request.query_params)
        if not filters.is_valid():
            raise exceptions.ValidationError(filters.errors)
        rows = list(
            destructions.register(request.user, filters.cleaned_data)[: destructions.REGISTER_MAX]
        )
        return Response(
            {
                "results": [destructions.as_json(r) for r in rows],
                "forecast": [
                    {
                        "rule": f.rule,
                        "count": f.count,
                        "first_on": f.first_on.isoformat() if f.first_on else None,
                    }
                    for f in erasure.forecast()
                ],
            }
        )
