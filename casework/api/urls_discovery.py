"""API routes of early discovery: indicator imports and thresholds (API.md "Discovery")."""

from django.urls import path

from . import discovery_views as dv

urlpatterns: list = [
    path("indicators/import/", dv.IndicatorImport.as_view(), name="api-indicator-import"),
    path("indicators/rules/", dv.IndicatorRules.as_view(), name="api-indicator-rules"),
]
