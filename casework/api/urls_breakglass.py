"""API routes of the breakglass area of oversight (API.md, Oversight)."""

from django.urls import path

from . import break_glass_views as bgv

urlpatterns: list = [
    path(
        "cases/<uuid:pk>/break-glass/",
        bgv.CaseBreakGlass.as_view(),
        name="api-case-break-glass",
    ),
]
