"""Page routes of the breakglass area of oversight (DESIGN.md §9)."""

from django.urls import path

from . import break_glass as bg

urlpatterns: list = [
    path("oversight/break-glass/", bg.break_glass_search, name="break_glass_search"),
    path("oversight/break-glass/<uuid:pk>/end/", bg.break_glass_end, name="break_glass_end"),
]
