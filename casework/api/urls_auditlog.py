"""API routes of the auditlog area of oversight (API.md, Oversight)."""

urlpatterns: list = []
