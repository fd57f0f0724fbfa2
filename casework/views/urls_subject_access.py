"""Page routes of subject access (PIPA 35조)."""

from django.urls import path

from . import subject_access as sa

urlpatterns = [
    path(
        "students/<uuid:pk>/subject-access/",
        sa.subject_access_form,
        name="subject_access",
    ),
    path("oversight/subject-access/", sa.subject_search, name="subject_search"),
]
