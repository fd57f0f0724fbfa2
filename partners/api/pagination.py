from django.core.paginator import InvalidPage
from rest_framework.pagination import PageNumberPagination

from partners.pagination import SlimPaginator
from partners.params import BadParameter, invalid_page_message, page_number


class StandardPagination(PageNumberPagination):
    """API.md: `{count, next, previous, results}`, `?page=`, `?page_size=` (default 50, max 200).

    A page that is not a whole number from 1 to the last page answers 400 with the range, under
    `page` (not DRF's 404): it is the request that is wrong, and the client can correct it."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = SlimPaginator

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        paginator = self.django_paginator_class(queryset, page_size)
        wanted = request.query_params.get(self.page_query_param)
        last = wanted in self.last_page_strings
        number = paginator.num_pages if last else page_number(wanted)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise BadParameter(
                self.page_query_param, invalid_page_message(paginator.num_pages)
            ) from None
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)
