"""Pages of the heads of school: approvals and the school overview."""

from django.urls import path  # noqa: F401

urlpatterns = []
