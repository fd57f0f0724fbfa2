from django.urls import include, path

app_name = "casework"

urlpatterns = [
    path("", include("casework.views.urls_work")),
    path("", include("casework.views.urls_heads")),
    path("", include("casework.views.urls_referrals")),
    path("", include("casework.views.urls_auditlog")),
    path("", include("casework.views.urls_review")),
    path("", include("casework.views.urls_breakglass")),
    path("", include("casework.views.urls_retention")),
    path("", include("casework.views.urls_subject_access")),
    path("", include("casework.views.urls_exports")),
    path("", include("casework.views.urls_alerts")),
]
