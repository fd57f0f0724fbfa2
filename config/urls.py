from django.contrib import admin
from django.urls import include, path

from partners.health import health

urlpatterns = [
    path("", include("partners.urls")),
    path("api/", include("partners.api.urls")),
    path("api/v1/", include("casework.api.urls")),
    path("casework/", include("casework.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", health, name="health"),
]
