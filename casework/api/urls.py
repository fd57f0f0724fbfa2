"""Casework API routes (API.md), mounted under /api/v1/."""

from django.urls import include, path

from casework import actions

from . import referral_views as rv
from . import subject_access_views as sav
from . import views as v

urlpatterns = [
    path("students/", v.StudentListCreate.as_view(), name="api-students"),
    path("students/<uuid:pk>/", v.StudentDetail.as_view(), name="api-student"),
    path("students/import/", v.StudentImport.as_view(), name="api-student-import"),
    path(
        "students/<uuid:pk>/subject-access/",
        sav.SubjectAccess.as_view(),
        name="api-student-subject-access",
    ),
    path("jobs/<uuid:pk>/", v.JobDetail.as_view(), name="api-job"),
    path("concerns/", v.ConcernListCreate.as_view(), name="api-concerns"),
    path("concerns/<uuid:pk>/triage/", v.ConcernTriage.as_view(), name="api-concern-triage"),
    path("cases/", v.CaseListCreate.as_view(), name="api-cases"),
    path("cases/<uuid:pk>/", v.CaseDetail.as_view(), name="api-case"),
    path("cases/<uuid:pk>/transition/", v.CaseTransition.as_view(), name="api-case-transition"),
    path("cases/<uuid:pk>/team/", v.CaseTeam.as_view(), name="api-case-team"),
    path(
        "cases/<uuid:pk>/team/<uuid:user_id>/",
        v.CaseTeamMember.as_view(),
        name="api-case-team-member",
    ),
    path("cases/<uuid:pk>/notes/", v.CaseNotes.as_view(), name="api-case-notes"),
    path("cases/<uuid:pk>/assessments/", v.CaseAssessments.as_view(), name="api-case-assessments"),
    path("cases/<uuid:pk>/consents/", v.CaseConsents.as_view(), name="api-case-consents"),
    path("cases/<uuid:pk>/plans/", v.CasePlans.as_view(), name="api-case-plans"),
    path("cases/<uuid:pk>/history/", v.CaseHistory.as_view(), name="api-case-history"),
    path("cases/<uuid:pk>/timeline/", v.CaseTimeline.as_view(), name="api-case-timeline"),
    path("plans/<uuid:pk>/", v.PlanDetail.as_view(), name="api-plan"),
    path("plans/<uuid:pk>/submit/", v.PlanAction.as_view(action="submit"), name="api-plan-submit"),
    path(
        "plans/<uuid:pk>/approve/", v.PlanAction.as_view(action="approve"), name="api-plan-approve"
    ),
    path("plans/<uuid:pk>/return/", v.PlanAction.as_view(action="return"), name="api-plan-return"),
    path(
        "plans/<uuid:pk>/interventions/",
        v.PlanInterventions.as_view(),
        name="api-plan-interventions",
    ),
    path(
        "interventions/<uuid:pk>/logs/", v.InterventionLogs.as_view(), name="api-intervention-logs"
    ),
    path("instruments/", v.InstrumentList.as_view(), name="api-instruments"),
    path("meetings/", v.MeetingListCreate.as_view(), name="api-meetings"),
    path("referrals/", rv.ReferralListCreate.as_view(), name="api-referrals"),
    path("referrals/<uuid:pk>/", rv.ReferralDetail.as_view(), name="api-referral"),
    *[
        path(
            f"referrals/<uuid:pk>/{action}/",
            rv.ReferralAction.as_view(action=action),
            name=f"api-referral-{action}",
        )
        for action in actions.REFERRAL
    ],
    path(
        "referrals/<uuid:pk>/messages/", rv.ReferralMessages.as_view(), name="api-referral-messages"
    ),
    path("consents/<uuid:pk>/withdraw/", rv.ConsentWithdraw.as_view(), name="api-consent-withdraw"),
    path("transfers/", rv.TransferListCreate.as_view(), name="api-transfers"),
    path("transfers/claims/", rv.TransferClaimList.as_view(), name="api-transfer-claims"),
    *[
        path(
            f"transfers/claims/<uuid:pk>/{action}/",
            rv.TransferClaimAction.as_view(action=action),
            name=f"api-transfer-claim-{action}",
        )
        for action in actions.CLAIM
    ],
    *[
        path(
            f"transfers/<uuid:pk>/{action}/",
            rv.TransferAction.as_view(action=action),
            name=f"api-transfer-{action}",
        )
        for action in actions.TRANSFER
    ],
    path("notifications/", v.NotificationList.as_view(), name="api-notifications"),
    path(
        "notifications/<uuid:pk>/read/",
        v.NotificationRead.as_view(),
        name="api-notification-read",
    ),
    path("", include("casework.api.urls_auditlog")),
    path("", include("casework.api.urls_review")),
    path("", include("casework.api.urls_breakglass")),
    path("", include("casework.api.urls_retention")),
    path("", include("casework.api.urls_exports")),
    path("", include("casework.api.urls_reports")),
    path("", include("casework.api.urls_alerts")),
    path("", include("casework.api.urls_discovery")),
]
