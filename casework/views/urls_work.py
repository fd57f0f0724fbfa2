"""Pages of the school team: teacher, coordinator, counsellor."""

from django.urls import path  # noqa: F401

urlpatterns = []
