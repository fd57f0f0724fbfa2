"""API routes of the review area of oversight (API.md, Oversight)."""

from django.urls import path

from . import review_views as rv

urlpatterns: list = [
    path("audit/reviews/", rv.ReviewList.as_view(), name="api-audit-reviews"),
    path("audit/reviews/<uuid:pk>/", rv.ReviewDetail.as_view(), name="api-audit-review"),
    *[
        path(
            f"audit/findings/<uuid:pk>/{action}/",
            rv.FindingAction.as_view(action=action),
            name=f"api-audit-finding-{action}",
        )
        for action in rv.FIELDS
    ],
]
