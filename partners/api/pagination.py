from rest_framework.pagination import PageNumberPagination

from partners.pagination import SlimPaginator


class StandardPagination(PageNumberPagination):
    """API.md: `{count, next, previous, results}`, `?page=`, `?page_size=` (default 50, max 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = SlimPaginator
