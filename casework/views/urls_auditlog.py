"""Page routes of the auditlog area of oversight (DESIGN.md §9)."""

urlpatterns: list = []
