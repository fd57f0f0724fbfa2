"""Page routes of alerts from partners (DESIGN.md §11)."""

from django.urls import path

from . import alerts

urlpatterns: list = [
    path("alerts/", alerts.alert_list, name="alert_list"),
    path("alerts/new/", alerts.alert_new, name="alert_new"),
    path("alerts/route/", alerts.alert_route_list, name="alert_route_list"),
    path("alerts/route/<uuid:pk>/", alerts.alert_route, name="alert_route"),
]
