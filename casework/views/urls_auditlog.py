"""Page routes of the auditlog area of oversight (DESIGN.md §9)."""

from django.urls import path

from . import auditlog

urlpatterns: list = [
    path("oversight/access-log/", auditlog.access_log, name="access_log"),
]
