"""Page routes of the breakglass area of oversight (DESIGN.md §9)."""

urlpatterns: list = []
