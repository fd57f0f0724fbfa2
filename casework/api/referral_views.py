"""Referral, consent-withdrawal and transfer API (API.md). The sending side (whoever may view
the case) gets the whole referral; the receiving side gets the packet taken at send."""

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access, actions, selectors
from casework.models import Consent, Referral, ReferralMessage, Transfer, TransferClaim
from casework.workflows import consents, transfers
from casework.workflows import referrals as wf
from partners.models import Organization, Service, User

from . import serializers as s
from .common import list_action, log_read, parse, visible_case, written

REFERRAL, TRANSFER, CLAIM = actions.REFERRAL, actions.TRANSFER, actions.CLAIM

REFERRAL_RELATED = (
    "case",
    "from_organization",
    "to_organization",
    "service",
    "assignee",
    "created_by",
)


def visible_referral(request, pk) -> Referral:
    referral = (
        access.visible_referrals(request.user)
        .filter(pk=pk)
        .select_related(*REFERRAL_RELATED)
        .first()
    )
    if referral is None:
        raise exceptions.NotFound()
    return referral


def case_viewer_ids(user, referrals) -> set:
    """Cases of these referrals that the user may view (one query): those get the full view."""
    return access.visible_case_ids(user, {r.case_id for r in referrals})


def serialize(referral, sender_side: bool):
    cls = s.ReferralSerializer if sender_side else s.ReceivedReferralSerializer
    return cls(referral).data


def respond(request, referral, code=status.HTTP_200_OK):
    """A referral write's answer, as the caller's side sees it, logged (`written`)."""
    referral = visible_referral(request, referral.pk)
    sender = bool(case_viewer_ids(request.user, [referral]))
    data = serialize(referral, sender)
    return written(request, "referral", referral, data, case=referral.case, code=code)


def filter_referrals(request):
    """The list's query parameters (API.md) as the selector's filters."""
    params = request.query_params
    return selectors.referral_list(
        request.user,
        box=params.get("box") or None,
        statuses=params["status"].split(",") if params.get("status") else None,
        kind=params.get("kind") or None,
        case=params.get("case") or None,
        overdue=params.get("overdue") in ("1", "true"),
        ordering=params.get("ordering") or "-created_at",
        shows=("created_by",),
    )


class ReferralListCreate(generics.GenericAPIView):
    serializer_class = s.ReferralSerializer

    @extend_schema(
        operation_id="referrals_list",
        parameters=[
            OpenApiParameter("box", enum=["inbox", "outbox"]),
            OpenApiParameter("status", str),
            OpenApiParameter("kind", enum=["escalation", "service"]),
            OpenApiParameter("case", str),
            OpenApiParameter("overdue", enum=["1"]),
        ],
        responses=s.ReferralSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(filter_referrals(request))
        full = case_viewer_ids(request.user, page)
        log_read(request, list_action(request), "referral", page)
        # One serializer per side, reused row by row (DRF builds its fields once per instance).
        sender, receiver = s.ReferralSerializer(), s.ReceivedReferralSerializer()
        return self.get_paginated_response(
            [(sender if r.case_id in full else receiver).to_representation(r) for r in page]
        )

    @extend_schema(request=s.ReferralCreateSerializer, responses={201: s.ReferralSerializer})
    def post(self, request):
        body = s.ReferralCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        case = visible_case(request, data.pop("case"))
        to = selectors.receiving_organization(data.pop("to_organization"))
        if to is None:
            raise exceptions.ValidationError({"to_organization": [_("없는 기관입니다.")]})
        service_id = data.pop("service", None)
        service = Service.objects.filter(pk=service_id).first() if service_id else None
        if service_id and service is None:
            raise exceptions.ValidationError({"service": [_("없는 서비스입니다.")]})
        consent_id = data.pop("consent", None)
        consent = Consent.objects.filter(pk=consent_id, case=case).first() if consent_id else None
        if consent_id and consent is None:
            raise exceptions.ValidationError({"consent": [_("이 사례의 동의가 아닙니다.")]})
        referral = wf.create_referral(
            case,
            by=request.user,
            to_organization=to,
            service=service,
            consent=consent,
            kind=data.pop("kind"),
            reason=data.pop("reason"),
            **data,
        )
        return respond(request, referral, status.HTTP_201_CREATED)


class ReferralDetail(APIView):
    @extend_schema(responses=s.ReferralSerializer)
    def get(self, request, pk):
        referral = visible_referral(request, pk)
        sender = bool(case_viewer_ids(request.user, [referral]))
        log_read(request, "view", "referral", [referral], case=referral.case)
        data = serialize(referral, sender)
        data["thread"] = s.ReferralMessageSerializer(
            referral.messages.select_related("author", "organization"), many=True
        ).data
        return Response(data)


class ReferralAction(APIView):
    action = None  # one of the table's (casework/actions.py), named by the route

    @extend_schema(request=s.ReferralAcceptSerializer, responses=s.ReferralSerializer)
    def post(self, request, pk):
        referral = REFERRAL.find(request.user, pk)
        step = REFERRAL[self.action]
        data = parse(request, step)
        if "assignee" in step.takes:
            data["assignee"] = User.objects.filter(pk=data["assignee"], is_active=True).first()
            if data["assignee"] is None:
                raise exceptions.ValidationError({"assignee": [_("없는 사용자입니다.")]})
        return respond(request, step.run(referral, by=request.user, **data))


class ReferralMessages(generics.GenericAPIView):
    serializer_class = s.ReferralMessageSerializer

    def get(self, request, pk):
        referral = visible_referral(request, pk)
        rows = ReferralMessage.objects.filter(referral=referral).select_related(
            "author", "organization"
        )
        page = self.paginate_queryset(rows.order_by("created_at"))
        log_read(request, "list", "referral_message", page, case=referral.case)
        return self.get_paginated_response(s.ReferralMessageSerializer(page, many=True).data)

    @extend_schema(request=s.MessageCreateSerializer, responses={201: s.ReferralMessageSerializer})
    def post(self, request, pk):
        referral = visible_referral(request, pk)
        body = s.MessageCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = wf.post_message(referral, by=request.user, body=body.validated_data["body"])
        data = s.ReferralMessageSerializer(message).data
        return written(
            request,
            "referral_message",
            message,
            data,
            case=referral.case,
            code=status.HTTP_201_CREATED,
        )


class ConsentWithdraw(APIView):
    @extend_schema(request=s.ReasonSerializer, responses=s.ConsentSerializer)
    def post(self, request, pk):
        consent = Consent.objects.filter(
            pk=pk, case__in=access.visible_cases(request.user).values("pk")
        ).first()
        if consent is None:
            raise exceptions.NotFound()
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        consent = consents.withdraw_consent(
            consent, by=request.user, reason=body.validated_data["reason"]
        )
        data = s.ConsentSerializer(consent).data
        return written(request, "consent", consent, data, case=consent.case)


# --- Transfers --------------------------------------------------------------------------------


def visible_transfer(request, pk) -> Transfer:
    transfer = (
        access.visible_transfers(request.user)
        .filter(pk=pk)
        .select_related("case__student", "from_school", "to_school", "requested_by", "decided_by")
        .first()
    )
    if transfer is None:
        raise exceptions.NotFound()
    return transfer


def written_transfer(request, transfer, code=status.HTTP_200_OK):
    data = s.TransferSerializer(transfer).data
    return written(request, "transfer", transfer, data, case=transfer.case, code=code)


class TransferListCreate(generics.GenericAPIView):
    serializer_class = s.TransferSerializer

    @extend_schema(operation_id="transfers_list", responses=s.TransferSerializer(many=True))
    def get(self, request):
        rows = (
            access.visible_transfers(request.user)
            .select_related(
                "case__student", "from_school", "to_school", "requested_by", "decided_by"
            )
            .order_by("-requested_at")
        )
        if request.query_params.get("status"):
            rows = rows.filter(status=request.query_params["status"])
        page = self.paginate_queryset(rows)
        log_read(request, "list", "transfer", page)
        return self.get_paginated_response(s.TransferSerializer(page, many=True).data)

    @extend_schema(
        request=s.TransferCreateSerializer,
        responses={201: s.TransferSerializer, 202: s.TransferClaimSerializer},
        description="A request by the old school `{case, to_school, reason}` (201, the "
        "transfer), or a claim by the new school `{claim: {neis_id, name, birth_date}, reason}` "
        "(202, the claim as its maker sees it, the same whether or not a case matched; the old "
        "school's coordinator confirms it at /transfers/claims/{id}/confirm/).",
    )
    def post(self, request):
        if "claim" in request.data:
            return self.claim(request)
        body = s.TransferCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = visible_case(request, body.validated_data["case"])
        school = Organization.objects.filter(
            Q(pk=body.validated_data["to_school"]), active=True
        ).first()
        if school is None:
            raise exceptions.ValidationError({"to_school": [_("없는 학교입니다.")]})
        transfer = transfers.request_transfer(
            case, by=request.user, to_school=school, reason=body.validated_data["reason"]
        )
        transfer = visible_transfer(request, transfer.pk)
        return written_transfer(request, transfer, code=status.HTTP_201_CREATED)

    def claim(self, request):
        body = s.TransferClaimCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        named = body.validated_data["claim"]
        claim = transfers.claim_transfer(
            by=request.user,
            neis_id=named["neis_id"],
            student_name=named["name"],
            birth_date=named["birth_date"],
            reason=body.validated_data["reason"],
        )
        claim = visible_claim(request, claim.pk)
        data = serialize_claim(request.user, claim)
        return written(request, "transfer_claim", claim, data, code=status.HTTP_202_ACCEPTED)


class TransferAction(APIView):
    action = None

    @extend_schema(request=s.OptionalReasonSerializer, responses=s.TransferSerializer)
    def post(self, request, pk):
        transfer = TRANSFER.find(request.user, pk)
        step = TRANSFER[self.action]
        data = parse(request, step)
        # A blank reason answers 400 here, before the workflow asks who is declining.
        if self.action == "decline" and not data["reason"].strip():
            raise exceptions.ValidationError({"reason": [_("거절 사유를 적어 주세요.")]})
        step.run(transfer, by=request.user, **data)
        transfer.refresh_from_db()
        return written_transfer(request, transfer)


# --- Claims by the new school (DESIGN.md §4) --------------------------------------------------


def claim_sides(user) -> set:
    """Schools the user claims for: a claim to one of them is seen from the claimant's side."""
    return {school.pk for school in access.transfer_receiving_schools(user)}


def serialize_claim(user, claim, claimant_schools=None):
    schools = claim_sides(user) if claimant_schools is None else claimant_schools
    if claim.to_school_id in schools:
        return s.TransferClaimSerializer(claim).data
    return s.ReceivedClaimSerializer(claim).data


def visible_claim(request, pk) -> TransferClaim:
    claim = (
        access.visible_claims(request.user)
        .filter(pk=pk)
        .select_related("to_school", "case", "claimed_by", "decided_by")
        .first()
    )
    if claim is None:
        raise exceptions.NotFound()
    return claim


class TransferClaimList(generics.GenericAPIView):
    serializer_class = s.TransferClaimSerializer

    @extend_schema(
        operation_id="transfer_claims_list", responses=s.TransferClaimSerializer(many=True)
    )
    def get(self, request):
        rows = (
            access.visible_claims(request.user)
            .select_related("to_school", "case", "claimed_by", "decided_by")
            .order_by("-claimed_at", "-pk")
        )
        page = self.paginate_queryset(rows)
        log_read(request, "list", "transfer_claim", page)
        schools = claim_sides(request.user)
        return self.get_paginated_response(
            [serialize_claim(request.user, claim, schools) for claim in page]
        )


class TransferClaimAction(APIView):
    action = None

    @extend_schema(request=s.OptionalReasonSerializer, responses=s.ReceivedClaimSerializer)
    def post(self, request, pk):
        claim = CLAIM.find(request.user, pk)
        step = CLAIM[self.action]
        step.run(claim, by=request.user, **parse(request, step))
        claim.refresh_from_db()
        return written(request, "transfer_claim", claim, serialize_claim(request.user, claim))
