"""API routes of the retention area of oversight (API.md, Oversight)."""

urlpatterns: list = []
