from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

from partners.health import health

urlpatterns = [
    path("", include("partners.urls")),
    path("api/", include("partners.api.urls")),
    path("api/v1/", include("casework.api.urls")),
    path("casework/", include("casework.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", health, name="health"),
    # Browsers ask for /favicon.ico before reading the page's <link rel="icon">.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
]
