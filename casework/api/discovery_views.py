"""Early discovery over the API (API.md "Discovery"): indicator imports and the thresholds in
force for the caller's school."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access
from casework.models import IndicatorKind, ScreeningLevel
from casework.workflows import discovery, roster
from partners.models import Organization

from .serializers import ImportUploadSerializer


def _one_school(request, schools: list[Organization], refused: str) -> Organization:
    """The caller's only school among `schools`, or the one they name (`?school=`)."""
    wanted = request.query_params.get("school") or (
        request.data.get("school") if hasattr(request.data, "get") else None
    )
    if wanted:
        schools = [s for s in schools if str(s.pk) == str(wanted)]
    if not schools:
        raise PermissionDenied(refused)
    if len(schools) > 1:
        raise exceptions.ValidationError({"school": [_("학교를 지정해 주세요.")]})
    return schools[0]


class IndicatorImport(APIView):
    """POST a CSV or XLSX of indicators (`?kind=attendance|basic_learning|screening`,
    `?dry_run=1` validates only) → 202 with the job to watch."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=ImportUploadSerializer, responses={202: dict})
    def post(self, request):
        kind = request.query_params.get("kind", "")
        if kind not in IndicatorKind.values:
            raise exceptions.ValidationError(
                {"kind": [_("kind는 attendance, basic_learning, screening 중 하나여야 합니다.")]}
            )
        body = ImportUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        school = _one_school(
            request,
            access.indicator_schools(request.user),
            _("지표 파일은 학교의 담당자가 가져옵니다."),
        )
        job = discovery.start_indicator_import(
            by=request.user,
            school=school,
            kind=kind,
            file_name=upload.name,
            data=upload.read(roster.MAX_BYTES + 1),
            dry_run=request.query_params.get("dry_run") in ("1", "true"),
        )
        return Response({"job": str(job.pk)}, status=status.HTTP_202_ACCEPTED)


class RulesSerializer(serializers.Serializer):
    absence_days = serializers.IntegerField(min_value=1, max_value=30)
    absence_percent = serializers.IntegerField(min_value=1, max_value=100)
    not_reached_subjects = serializers.IntegerField(min_value=1, max_value=20)
    screening_level = serializers.ChoiceField(choices=ScreeningLevel.choices)


class RulesResponseSerializer(serializers.Serializer):
    school = serializers.UUIDField()
    in_force = RulesSerializer()
    office = RulesSerializer()
    own = RulesSerializer(allow_null=True)


class IndicatorRules(APIView):
    """The thresholds in force for the caller's school, the office's defaults and the school's
    own tightening; PUT by the school's coordinator, only tighter than the office's."""

    def _answer(self, school):
        rules = discovery.rules_in_force(school)
        return Response(
            {
                "school": str(school.pk),
                "in_force": rules["in_force"],
                "office": rules["office"],
                "own": rules["school"],
            }
        )

    @extend_schema(responses=RulesResponseSerializer)
    def get(self, request):
        school = _one_school(
            request,
            access.schools_worked_at(request.user),
            _("학교 교직원만 조기 발견 기준을 볼 수 있습니다."),
        )
        return self._answer(school)

    @extend_schema(request=RulesSerializer, responses=RulesResponseSerializer)
    def put(self, request):
        school = _one_school(
            request,
            access.indicator_schools(request.user),
            _("기준은 학교의 담당자가 정합니다."),
        )
        body = RulesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        discovery.set_school_rules(by=request.user, school=school, values=body.validated_data)
        return self._answer(school)
