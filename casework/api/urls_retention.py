"""API routes of the retention area of oversight (API.md, Oversight)."""

from django.urls import path

from . import retention_views as rtv

urlpatterns: list = [
    path("audit/destructions/", rtv.DestructionRegister.as_view(), name="api-audit-destructions"),
]
