"""Break-glass over the API (API.md: POST /api/v1/cases/{id}/break-glass/)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access
from casework.workflows import break_glass


class BreakGlassInput(serializers.Serializer):
    reason = serializers.CharField(max_length=break_glass.REASON_MAX_LENGTH, trim_whitespace=True)


OPENED = inline_serializer(
    "BreakGlassOpened",
    fields={"case": serializers.UUIDField(), "expires_at": serializers.DateTimeField()},
)


class CaseBreakGlass(APIView):
    """Open a case outside one's grants with a reason: the privacy officer above its school or
    the centre head of its district office; anyone else 404, whether the case exists or not.
    201 with the new opening; 200 with the one already in force (never a second)."""

    @extend_schema(request=BreakGlassInput, responses={201: OPENED, 200: OPENED})
    def post(self, request, pk):
        case = access.get_break_glass_case_or_404(request.user, pk)
        body = BreakGlassInput(data=request.data)
        if not body.is_valid():
            raise exceptions.ValidationError(
                {
                    "reason": [
                        _("긴급 열람 사유를 적어 주세요(%(max)d자 이내).")
                        % {"max": break_glass.REASON_MAX_LENGTH}
                    ]
                }
            )
        opening, created = break_glass.open_break_glass(
            case, by=request.user, reason=body.validated_data["reason"], request=request._request
        )
        data = {"case": str(opening.case_id), "expires_at": opening.expires_at}
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
