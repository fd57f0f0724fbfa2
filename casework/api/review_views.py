"""The monthly access-log review over the API (API.md: /api/v1/audit/reviews/, findings)."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access
from casework.models import AccessReview, ReviewFinding
from casework.workflows import reviews

from .common import log_read


def _when(value):
    return timezone.localtime(value).isoformat() if value else None


def _person(user):
    return {"id": str(user.pk), "name": str(user)} if user else None


def finding_json(finding: ReviewFinding, *, events: bool = False) -> dict:
    data = {
        "id": str(finding.pk),
        "kind": finding.kind,
        "user": _person(finding.user),
        "organization": (
            {"id": str(finding.organization_id), "name": finding.organization.name}
            if finding.organization_id
            else None
        ),
        "count": finding.count,
        "first_at": _when(finding.first_at),
        "last_at": _when(finding.last_at),
        "status": finding.status,
        "detail": finding.detail,
        "question": finding.question,
        "asked_at": _when(finding.asked_at),
        "answer": finding.answer,
        "answered_at": _when(finding.answered_at),
        "resolution": finding.resolution,
        "closed_at": _when(finding.closed_at),
    }
    if events:
        data["event_ids"] = finding.event_ids
    return data


def review_json(review: AccessReview, findings=None) -> dict:
    data = {
        "id": str(review.pk),
        "office": {"id": str(review.office_id), "name": review.office.name},
        "month": review.month.strftime("%Y-%m"),
        "status": review.status,
        "event_count": review.event_count,
        "built_at": _when(review.built_at),
        "built_by": _person(review.built_by),
        "reviewed_at": _when(review.reviewed_at),
        "reviewed_by": _person(review.reviewed_by),
    }
    if findings is not None:
        data["findings"] = [finding_json(f, events=True) for f in findings]
    return data


class ReviewRequest(serializers.Serializer):
    month = serializers.CharField(max_length=7)
    office = serializers.UUIDField(required=False)


def _office(user, office_id):
    offices = access.privacy_offices(user)
    if office_id is not None:
        offices = [o for o in offices if o.pk == office_id]
    if not offices:
        raise PermissionDenied
    if len(offices) > 1:
        raise exceptions.ValidationError({"office": [_("점검할 교육청을 고르세요.")]})
    return offices[0]


class ReviewList(APIView):
    """The monthly reviews of the officer's offices, newest first; POST builds one now."""

    @extend_schema(operation_id="audit_reviews_list", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        if not access.may_read_access_log(request.user):
            raise PermissionDenied
        rows = list(
            access.visible_reviews(request.user)
            .select_related("office", "built_by", "reviewed_by")
            .order_by("-month")[:120]
        )
        return Response({"results": [review_json(r) for r in rows]})

    @extend_schema(
        request=ReviewRequest,
        responses={
            201: OpenApiTypes.OBJECT,
            202: inline_serializer("ReviewBuilding", fields={"job": serializers.UUIDField()}),
        },
    )
    def post(self, request):
        if not access.may_read_access_log(request.user):
            raise PermissionDenied
        body = ReviewRequest(data=request.data)
        body.is_valid(raise_exception=True)
        office = _office(request.user, body.validated_data.get("office"))
        month = reviews.parse_month(body.validated_data["month"])
        review, job = reviews.request_review(office, month, by=request.user)
        job.refresh_from_db()
        if job.status == job.Status.FAILED:
            message = (job.errors or [{}])[0].get("message", "")
            return Response(
                {"detail": message, "job": str(job.pk)}, status=status.HTTP_409_CONFLICT
            )
        if job.status != job.Status.SUCCEEDED:
            return Response({"job": str(job.pk)}, status=status.HTTP_202_ACCEPTED)
        review = access.get_visible_review_or_404(request.user, review.pk)
        findings = list(review.findings.select_related("user", "organization"))
        log_read(request, "view", "review_finding", findings)
        return Response(review_json(review, findings), status=status.HTTP_201_CREATED)


class ReviewDetail(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        if not access.may_read_access_log(request.user):
            raise PermissionDenied
        review = access.get_visible_review_or_404(request.user, pk)
        findings = list(review.findings.select_related("user", "organization"))
        log_read(request, "view", "review_finding", findings)
        return Response(review_json(review, findings))


FIELDS = {"ask": "question", "answer": "answer", "close": "resolution"}


class FindingAction(APIView):
    """ask (the officer) → answer (the person concerned) → close (the officer)."""

    action = ""

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk):
        field = FIELDS[self.action]
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({field: [_("JSON 객체로 보내 주세요.")]})
        text = request.data.get(field)
        if not isinstance(text, str):
            raise exceptions.ValidationError({field: [_("글로 적어 주세요.")]})
        if self.action == "answer":
            finding = access.get_own_finding_or_404(request.user, pk)
            finding = reviews.answer(finding, by=request.user, text=text)
        else:
            finding = access.get_overseen_finding_or_404(request.user, pk)
            act = reviews.ask if self.action == "ask" else reviews.close
            finding = act(finding, by=request.user, **{field: text})
        finding = ReviewFinding.objects.select_related("user", "organization").get(pk=finding.pk)
        log_read(request, "view", "review_finding", [finding])
        return Response(finding_json(finding))
