"""The shapes every part of the API shares: references to users, organisations, students,
cases and services, and the small inputs (a version, a reason)."""

from rest_framework import serializers

from casework.models import Case, Student
from core.representation import FastModelSerializer
from partners.models import Organization, Service, User


class UserRefSerializer(FastModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name"]


class OrgRefSerializer(FastModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "code", "name"]


class StudentRefSerializer(FastModelSerializer):
    class Meta:
        model = Student
        fields = ["id", "name", "grade", "class_no", "number"]


class CaseRefSerializer(FastModelSerializer):
    class Meta:
        model = Case
        fields = ["id", "number"]


class ServiceRefSerializer(FastModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name"]


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class OptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
