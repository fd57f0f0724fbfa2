"""API routes of the review area of oversight (API.md, Oversight)."""

urlpatterns: list = []
