"""Pages of the school team: teacher, coordinator, counsellor."""

from django.urls import path

from . import intake, roster, work

urlpatterns = [
    path("", intake.queue, name="queue"),
    path("concerns/", intake.concern_list, name="concern_list"),
    path("concerns/new/", intake.concern_new, name="concern_new"),
    path("concerns/<uuid:pk>/", intake.concern_detail, name="concern_detail"),
    path("concerns/<uuid:pk>/triage/", intake.concern_triage, name="concern_triage"),
    path("cases/", work.case_list, name="case_list"),
    path("cases/new/", work.case_new, name="case_new"),
    path("cases/<uuid:pk>/", work.case_detail, name="case_detail"),
    path("cases/<uuid:pk>/timeline/", work.case_timeline, name="case_timeline"),
    path("cases/<uuid:pk>/plans/", work.case_plans, name="case_plans"),
    path("cases/<uuid:pk>/do/<slug:action>/", work.case_action, name="case_action"),
    path("meetings/", work.meeting_list, name="meeting_list"),
    path("meetings/new/", work.meeting_new, name="meeting_new"),
    path("students/", roster.student_list, name="student_list"),
    path("students/<uuid:pk>/", roster.student_detail, name="student_detail"),
    path("students/import/", roster.roster_import, name="roster_import"),
    path("jobs/<uuid:pk>/", roster.job_detail, name="job_detail"),
    path("jobs/<uuid:pk>/save/", roster.job_save, name="job_save"),
]
