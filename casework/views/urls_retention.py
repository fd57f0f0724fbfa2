"""Page routes of the retention area of oversight (DESIGN.md §9)."""

from django.urls import path

from . import retention

urlpatterns: list = [
    path("oversight/destructions/", retention.destruction_register, name="destruction_register"),
]
