"""Page routes of the review area of oversight (DESIGN.md §9)."""

from django.urls import path

from . import reviews

urlpatterns: list = [
    path("oversight/", reviews.oversight_home, name="oversight"),
    path("oversight/reviews/", reviews.review_list, name="review_list"),
    path("oversight/reviews/<uuid:pk>/", reviews.review_detail, name="review_detail"),
    path("oversight/reviews/<uuid:pk>/complete/", reviews.review_complete, name="review_complete"),
    path("oversight/findings/<uuid:pk>/", reviews.finding_detail, name="finding_detail"),
    path("oversight/findings/<uuid:pk>/answer/", reviews.finding_answer, name="finding_answer"),
]
