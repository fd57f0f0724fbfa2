"""API routes of reports (API.md, Reports and exports)."""

from django.urls import path

from . import committee_views as cv
from . import report_views as rv

urlpatterns: list = [
    path("reports/summary/", rv.ReportSummary.as_view(), name="api-reports-summary"),
    path("reports/committee/", cv.CommitteeReport.as_view(), name="api-reports-committee"),
]
