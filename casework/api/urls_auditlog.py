"""API routes of the auditlog area of oversight (API.md, Oversight)."""

from django.urls import path

from . import auditlog_views as alv

urlpatterns: list = [
    path("audit/access/", alv.AccessLog.as_view(), name="api-audit-access"),
]
