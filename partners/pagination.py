"""Pages that sort the bare rows, then load only the page's rows with their related objects.

A list page joined to its related tables (the student, both organisations, the service...) makes
PostgreSQL join every row the user may see before it sorts and keeps 25. Here the sort and the
limit run on the list's own query without its select_related joins, and a second, simple query
loads those few rows by primary key with everything the page shows. Filters stay in the first
query, so the second can only return rows the first one chose.
"""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.db.models.query import ModelIterable


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
        if count is not None:
            self.__dict__["count"] = count

    def page(self, number) -> Page:
        page = super().page(number)
        rows = self.object_list
        if isinstance(rows, QuerySet) and rows._iterable_class is ModelIterable:
            bottom = (page.number - 1) * self.per_page
            ids = list(rows.values_list("pk", flat=True)[bottom : bottom + self.per_page])
            page.object_list = load_in_order(rows, ids)
        return page
