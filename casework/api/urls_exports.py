"""API routes of exports (API.md "Reports and exports")."""

from django.urls import path

from . import export_views as ev

urlpatterns: list = [
    path("exports/", ev.ExportCreate.as_view(), name="api-exports"),
    path("jobs/<uuid:pk>/download/", ev.JobDownload.as_view(), name="api-job-download"),
]
