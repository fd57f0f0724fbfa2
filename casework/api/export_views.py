"""Exports over the API (API.md "Reports and exports"): ask for a file with a reason, watch its
job at /jobs/{id}/, fetch it from the job's `download` while it lasts."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access
from casework.workflows import exports
from casework.workflows.errors import GuardFailed
from core import exportfiles

from . import serializers as s
from .common import written


class ExportRequestSerializer(serializers.Serializer):
    """For the schema: the body is read by the workflow, which says what is wrong per field."""

    kind = serializers.ChoiceField(choices=exports.KINDS)
    params = serializers.DictField(required=False)
    reason = serializers.CharField(max_length=exports.REASON_MAX)


class ExportCreate(APIView):
    """POST `{kind, params, reason}` → 202 `{"job"}`: the file is made by a job; the reason is
    required and printed on the file."""

    @extend_schema(request=ExportRequestSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": [_("요청 본문은 JSON 객체여야 합니다.")]}
            )
        job = exports.request_export(
            by=request.user,
            kind=body.get("kind"),
            params=body.get("params"),
            reason=body.get("reason"),
        )
        job.refresh_from_db()  # where Celery runs eagerly, the file is already made
        data = {"job": s.JobSerializer(job, context={"request": request}).data}
        return written(request, "job", job, data, code=status.HTTP_202_ACCEPTED)


class JobDownload(APIView):
    """The file of an export, for its requester only (anyone else 404), while it lasts (410
    after); every download is an access event `download` with the export's reason."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        job = access.get_downloadable_export_or_404(request.user, pk)
        try:
            content, name, content_type = exports.download_export(
                job, by=request.user, request=request._request
            )
        except exports.FileGone as gone:
            return Response({"detail": gone.message}, status=status.HTTP_410_GONE)
        except GuardFailed as refused:
            return Response({"detail": refused.message, "code": "guard"}, status=409)
        return exportfiles.attachment(content, name, content_type)
