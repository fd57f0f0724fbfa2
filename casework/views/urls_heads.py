"""Pages of the heads of school and of the district centre, the report dashboard, and
everyone's notifications."""

from django.urls import path

from . import district, heads, reports

urlpatterns = [
    path("approvals/", heads.approvals, name="approvals"),
    path("approvals/<uuid:pk>/<slug:decision>/", heads.plan_decide, name="plan_decide"),
    path("overview/", heads.school_overview, name="school_overview"),
    path("district/", district.district_dashboard, name="district_dashboard"),
    path("reports/", reports.report_dashboard, name="report_dashboard"),
    path("notifications/", heads.notifications, name="notifications"),
    path("notifications/<uuid:pk>/open/", heads.notification_open, name="notification_open"),
    path("notifications/read-all/", heads.notifications_read_all, name="notifications_read_all"),
    path("notifications/badge/", heads.notification_badge, name="notification_badge"),
]
