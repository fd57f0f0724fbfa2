"""API routes of alerts from partners (API.md "Discovery")."""

from django.urls import path

from . import alert_views as av

urlpatterns: list = [
    path("alerts/", av.AlertListCreate.as_view(), name="api-alerts"),
]
