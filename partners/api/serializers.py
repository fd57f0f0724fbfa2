from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from partners.models import Membership, Organization, Service, User


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=256, trim_whitespace=False, style={"input_type": "password"}
    )
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=_(
            "2단계 인증 코드: 인증 앱의 6자리 숫자 또는 복구 코드. 2단계 인증을 쓰는 계정(MFA_REQUIRED가 켜져 있으면 개인정보를 다루는 모든 계정)에 필요합니다."
        ),
    )


class SecondFactorRequiredSerializer(serializers.Serializer):
    """401 of the token endpoint when the account's second factor is missing or wrong."""

    mfa_required = serializers.BooleanField()
    detail = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class OrganizationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "code", "name", "kind"]


class MembershipSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer()
    approval_current = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["organization", "role", "title", "approval_expires_on", "approval_current"]

    def get_approval_current(self, membership) -> bool:
        return membership.is_current()


class MeSerializer(serializers.ModelSerializer):
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "memberships"]

    def get_memberships(self, user) -> list[dict]:
        rows = [m for m in user.memberships.all() if m.active]
        return MembershipSerializer(rows, many=True).data


class OrganizationSerializer(serializers.ModelSerializer):
    covers = serializers.SerializerMethodField()
    serves = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "agency_type",
            "parent",
            "region_code",
            "school_level",
            "covers",
            "serves",
            "address",
            "phone",
            "email",
            "website",
        ]

    def get_covers(self, org) -> list[str]:
        return [b.region_code for b in org.covers.all()]

    def get_serves(self, org) -> list[str]:
        return [b.region_code for b in org.serves.all()]


class ServiceSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer()
    boroughs = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "id",
            "organization",
            "name",
            "description",
            "domains",
            "support_types",
            "eligibility",
            "school_levels",
            "min_age",
            "max_age",
            "boroughs",
            "intake_status",
            "contact_phone",
            "contact_email",
            "url",
            "languages",
            "cost",
        ]

    def get_boroughs(self, service) -> list[dict]:
        return [{"region_code": b.region_code, "name": b.name} for b in service.boroughs.all()]
