"""API routes of the breakglass area of oversight (API.md, Oversight)."""

urlpatterns: list = []
