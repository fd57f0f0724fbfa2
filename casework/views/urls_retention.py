"""Page routes of the retention area of oversight (DESIGN.md §9)."""

urlpatterns: list = []
