from rest_framework import serializers

from partners.models import Membership, Organization, Service, User


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=256, trim_whitespace=False, style={"input_type": "password"}
    )


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
