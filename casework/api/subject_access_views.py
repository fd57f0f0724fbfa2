"""Subject access over the API (API.md: GET /api/v1/students/{id}/subject-access/)."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access, subject_access

REASON_MAX = 500


class SubjectAccessQuery(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX, trim_whitespace=True)
    format = serializers.ChoiceField(choices=["json", "pdf"], default="json", required=False)


class SubjectAccess(APIView):
    """Everything held on the student and every access event about them (PIPA 35조): the
    owner school's coordinator or the privacy officer above the school; anyone else 404."""

    @extend_schema(
        parameters=[
            OpenApiParameter("reason", OpenApiTypes.STR, required=True),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "pdf"]),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, pk):
        student = access.get_subject_access_student_or_404(request.user, pk)
        query = SubjectAccessQuery(data=request.query_params)
        if not query.is_valid():
            errors = dict(query.errors)
            if "reason" in errors:
                errors["reason"] = [
                    _("열람 사유를 적어 주세요(%(max)d자 이내).") % {"max": REASON_MAX}
                ]
            raise exceptions.ValidationError(errors)
        reason = query.validated_data["reason"]
        bundle = subject_access.gather(request.user, student, reason, request=request._request)
        if query.validated_data.get("format") == "pdf":
            organization = subject_access.requester_organization(request.user, student)
            response = HttpResponse(
                subject_access.pdf(bundle, organization), content_type="application/pdf"
            )
            name = subject_access.filename(student, "pdf")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            response["Cache-Control"] = "no-store"
            return response
        response = Response(bundle.as_json())
        response["Cache-Control"] = "no-store"
        return response
