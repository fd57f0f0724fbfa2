"""Page routes of the review area of oversight (DESIGN.md §9)."""

urlpatterns: list = []
