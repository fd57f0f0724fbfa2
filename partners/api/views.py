from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from partners import mfa, second_factor
from partners.authentication import login_with_lockout, verify_code_with_lockout
from partners.choices import Domain, OrganizationKind
from partners.models import ApiToken, Membership, Organization, Service, User
from partners.tokens import revoke_token

from . import hsds
from .authentication import BearerTokenAuthentication
from .serializers import (
    MeSerializer,
    OrganizationSerializer,
    SecondFactorRequiredSerializer,
    ServiceSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


class Locked(exceptions.Throttled):
    default_code = "locked"


def _locked(result) -> Locked:
    wait = max(1, int((result.locked_until - timezone.now()).total_seconds()))
    return Locked(wait=wait, detail=result.message)


class TokenView(APIView):
    """POST exchanges a username and password (and the second factor's `otp`, for an account
    that has or must have one) for a bearer token; DELETE revokes the token presented. Failed
    attempts, wrong codes included, count towards the same lockout as the login page."""

    def _exchanging(self) -> bool:
        request = getattr(self, "request", None)
        return request is not None and request.method == "POST"

    def get_authenticators(self):
        # The POST is the credential exchange itself: no session, so no CSRF to satisfy.
        return [] if self._exchanging() else [BearerTokenAuthentication()]

    def get_permissions(self):
        return [AllowAny()] if self._exchanging() else [IsAuthenticated()]

    def get_authenticate_header(self, request):
        # Wrong credentials stay a 401 with the challenge, even though POST authenticates no one.
        return BearerTokenAuthentication.keyword

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            201: TokenSerializer,
            401: OpenApiResponse(
                SecondFactorRequiredSerializer,
                description=_(
                    "아이디·비밀번호가 틀렸거나(`detail`만), 2단계 인증 코드(`otp`)가 없거나 틀렸거나 "
                    "2단계 인증을 아직 등록하지 않은 계정(`mfa_required`: true)"
                ),
            ),
            429: OpenApiResponse(description=_("로그인 실패가 반복되어 잠긴 계정")),
        },
        auth=[],
    )
    def post(self, request):
        credentials = TokenRequestSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        result = login_with_lockout(
            request._request,
            credentials.validated_data["username"],
            credentials.validated_data["password"],
        )
        if result.locked:
            raise _locked(result)
        if result.user is None or not result.user.is_active:
            raise exceptions.AuthenticationFailed(result.message)
        if mfa.second_factor_due(result.user):
            refusal = self._check_second_factor(result.user, credentials.validated_data.get("otp"))
            if refusal is not None:
                return refusal
        token, key = ApiToken.issue(result.user)
        return Response(
            TokenSerializer({"token": key, "expires_at": token.expires_at}).data,
            status=status.HTTP_201_CREATED,
        )

    def _check_second_factor(self, user, otp: str | None) -> Response | None:
        """None when `otp` is a right code of the user's factor; else the 401 that says so."""
        if not second_factor.has_second_factor(user):
            return self._mfa_required(
                _(
                    "2단계 인증을 등록해야 토큰을 받을 수 있습니다. 웹에서 인증 앱을 먼저 등록하세요."
                )
            )
        if not otp:
            return self._mfa_required(_("2단계 인증 코드(otp)를 함께 보내세요."))
        checked = verify_code_with_lockout(user, otp)
        if checked.locked:
            raise _locked(checked)
        if checked.device is None:
            return self._mfa_required(checked.message)
        return None

    def _mfa_required(self, detail: str) -> Response:
        response = Response(
            {"mfa_required": True, "detail": detail}, status=status.HTTP_401_UNAUTHORIZED
        )
        response["WWW-Authenticate"] = BearerTokenAuthentication.keyword
        return response

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        token = request.auth
        if isinstance(token, ApiToken):
            revoke_token(token, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        memberships = Membership.objects.filter(user=request.user).select_related("organization")
        user = User.objects.prefetch_related(Prefetch("memberships", memberships)).get(
            pk=request.user.pk
        )
        return Response(MeSerializer(user).data)


class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    """The directory of organisations; public to every signed-in user (no personal data)."""

    serializer_class = OrganizationSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", enum=OrganizationKind.values),
            OpenApiParameter("q", description=_("기관명 또는 코드")),
            OpenApiParameter("covers", description=_("이 자치구(행정표준코드)에서 활동하는 기관")),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        orgs = Organization.objects.filter(active=True).prefetch_related("covers", "serves")
        params = self.request.query_params
        kind = params.get("kind")
        if kind:
            if kind not in OrganizationKind.values:
                raise exceptions.ValidationError({"kind": [_("알 수 없는 기관 유형입니다.")]})
            orgs = orgs.filter(kind=kind)
        if params.get("q"):
            q = params["q"].strip()
            orgs = orgs.filter(Q(name__icontains=q) | Q(code__icontains=q))
        if params.get("covers"):
            orgs = orgs.filter(
                pk__in=Organization.objects.active_in_borough(params["covers"]).values("pk")
            )
        return orgs.order_by("kind", "name")


class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """Partner services; `hsds/` exports the same selection as Open Referral HSDS JSON."""

    serializer_class = ServiceSerializer

    def get_queryset(self):
        services = (
            Service.objects.filter(active=True)
            .select_related("organization")
            .prefetch_related("boroughs")
        )
        params = self.request.query_params
        domain = params.get("domain")
        if domain:
            if domain not in Domain.values:
                raise exceptions.ValidationError({"domain": [_("알 수 없는 지원 영역입니다.")]})
            services = services.filter(domains__contains=[domain])
        if params.get("borough"):
            services = services.filter(boroughs__region_code=params["borough"])
        if params.get("q"):
            q = params["q"].strip()
            services = services.filter(
                Q(name__icontains=q)
                | Q(description__icontains=q)
                | Q(organization__name__icontains=q)
            )
        return services.distinct().order_by("organization__name", "name")

    @extend_schema(
        parameters=[
            OpenApiParameter("domain", enum=Domain.values),
            OpenApiParameter("borough", description=_("행정표준코드(시군구)")),
            OpenApiParameter("q"),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        responses=inline_serializer(
            "HsdsExport",
            {
                "hsds_version": serializers.CharField(),
                "services": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    @action(detail=False, pagination_class=None)
    def hsds(self, request):
        """The filtered directory as one Open Referral HSDS document (not paginated)."""
        return Response(hsds.export(self.get_queryset()))
