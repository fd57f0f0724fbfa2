"""Alerts from partners over the API (API.md "Discovery"): a partner, 행정복지센터 or police member
alerts a school about a child; the answer is the alert's id and status, the same whether the
child was matched or not, and the sender's list shows nothing more."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from casework import access
from casework.choices import Urgency
from casework.models import Alert
from casework.workflows import alerts

FIELDS = ("name", "birth_date", "school", "borough", "description", "urgency")


class AlertRequestSerializer(serializers.Serializer):
    """For the schema: the body is read by the workflow, which says what is wrong per field."""

    name = serializers.CharField(max_length=alerts.NAME_MAX)
    birth_date = serializers.DateField()
    school = serializers.CharField(required=False, help_text="the school's id or code, if known")
    borough = serializers.CharField(
        required=False, help_text="the borough's 5-digit 행정표준코드, e.g. 11545"
    )
    description = serializers.CharField(max_length=alerts.DESCRIPTION_MAX)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)


class AlertSerializer(serializers.ModelSerializer):
    """What the sender sees of an alert: never the student, the concern or the office."""

    class Meta:
        model = Alert
        fields = ("id", "created_at", "status")
        read_only_fields = fields


class AlertListCreate(generics.GenericAPIView):
    serializer_class = AlertSerializer

    def _require_sender(self, request):
        if not access.may_send_alert(request.user):
            raise PermissionDenied(
                _("협력기관·행정복지센터·경찰서 담당자만 학교에 알릴 수 있습니다.")
            )

    @extend_schema(operation_id="alerts_list", responses=AlertSerializer(many=True))
    def get(self, request):
        self._require_sender(request)
        rows = access.sent_alerts(request.user).order_by("-created_at")
        page = self.paginate_queryset(rows)
        data = AlertSerializer(page if page is not None else rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(request=AlertRequestSerializer, responses={201: AlertSerializer})
    def post(self, request):
        self._require_sender(request)
        body = request.data
        if not isinstance(body, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": [_("요청 본문은 JSON 객체여야 합니다.")]}
            )
        alert = alerts.send_alert(request.user, **{name: body.get(name) for name in FIELDS})
        return Response({"id": str(alert.pk), "status": alert.status}, status.HTTP_201_CREATED)
