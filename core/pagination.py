"""Pages that sort the bare rows, then load only the page's rows with their related objects.

A list page joined to its related tables (the student, both organisations, the service...) makes
PostgreSQL join every row the user may see before it sorts and keeps 25. Here the sort and the
limit run on the list's own query without its select_related joins, and a second, simple query
loads those few rows by primary key with everything the page shows. Filters stay in the first
query, so the second can only return rows the first one chose.

The first query also counts the rows (`COUNT(*) OVER ()`): it has to find and sort all of them
anyway, so the paginator needs no COUNT of its own unless the page asked for is past the end.

`StandardPagination` is the API's pagination (DRF's `DEFAULT_PAGINATION_CLASS`) over the same
paginator.

A page number far past any list (`?page=99999999999999999999`) is not sent to the database as
an offset it would refuse: it counts instead, and is past the end like any other.
"""

from django.core.paginator import InvalidPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from django.db.models.query import ModelIterable
from rest_framework.pagination import PageNumberPagination

from .params import PAGE_MAX, BadParameter, invalid_page_message, page_number

TOTAL = "slim_paginator_total"


def load_in_order(rows: QuerySet, ids: list) -> list:
    """The rows of `ids`, in that order, with `rows`' select_related, prefetches and deferred
    fields (annotated querysets keep their own query, filtered to the ids)."""
    if not ids:
        return []
    if rows.query.annotations:
        loaded = rows.filter(pk__in=ids)
    else:
        loaded = rows.model._default_manager.filter(pk__in=ids)
        loaded.query.select_related = rows.query.select_related
        loaded.query.deferred_loading = rows.query.deferred_loading
        loaded = loaded.prefetch_related(*rows._prefetch_related_lookups)
    by_pk = {obj.pk: obj for obj in loaded}
    return [by_pk[pk] for pk in ids if pk in by_pk]


class SlimPaginator(Paginator):
    def __init__(self, object_list, per_page, *args, count: int | None = None, **kwargs):
        """`count`: the number of rows when the caller has it already (counted together with
        something else it needed), which spares the paginator its own COUNT."""
        super().__init__(object_list, per_page, *args, **kwargs)
        self._ids: dict[int, list] = {}
        if count is not None:
            self.__dict__["count"] = count

    def _slim(self) -> bool:
        rows = self.object_list
        return isinstance(rows, QuerySet) and rows._iterable_class is ModelIterable

    def _page_ids(self, number: int) -> list:
        """The ids of page `number`, learning the count from the same query when it has rows."""
        if number not in self._ids:
            bottom = (number - 1) * self.per_page
            top = bottom + self.per_page
            if "count" in self.__dict__:
                ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
            else:
                counted = self.object_list.annotate(**{TOTAL: Window(Count("pk"))})
                rows = list(counted.values_list("pk", TOTAL)[bottom:top])
                ids = [pk for pk, _total in rows]
                if rows:
                    self.__dict__["count"] = rows[0][1]
            self._ids[number] = ids
        return self._ids[number]

    def validate_number(self, number):
        if self._slim() and "count" not in self.__dict__:
            try:
                wanted = int(number)
            except (TypeError, ValueError):
                raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
            if 1 <= wanted <= PAGE_MAX:
                self._page_ids(wanted)  # counts the rows too, unless the page is past the end
        return super().validate_number(number)

    def page(self, number) -> Page:
        page = super().page(number)
        if self._slim():
            page.object_list = load_in_order(self.object_list, self._page_ids(page.number))
        return page


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
