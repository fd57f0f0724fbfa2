"""Page routes of exports (DESIGN.md §10)."""

from django.urls import path

from . import exports

urlpatterns: list = [
    path("exports/", exports.export_list, name="export_list"),
    path("exports/new/", exports.export_new, name="export_new"),
    path("exports/<uuid:pk>/", exports.export_detail, name="export_detail"),
    path("exports/<uuid:pk>/download/", exports.export_download, name="export_download"),
]
