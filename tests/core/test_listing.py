"""`core.listing.Listing`: only the page's sorts are used, a bad sort is the default order, the
filters and sort are kept per page for the next visit, and `?reset=1` forgets them."""

from django.db.models import F
from django.test import RequestFactory

from casework.models import Case
from core.listing import Listing, in_order

SORTS = {"number": "number", "student": ("student__name", "-opened_on"), "updated": "updated_at"}


def request(query: str = "", session=None):
    answer = RequestFactory().get("/cases/" + (f"?{query}" if query else ""))
    answer.session = {} if session is None else session
    return answer


def listing(query: str = "", session=None, key="cases", **kwargs) -> Listing:
    options = {"filters": ("q", "status"), "sorts": SORTS, "default": "-updated", **kwargs}
    return Listing(request(query, session), key, **options)


def order_of(rows: Listing) -> tuple:
    return rows.order(Case.objects.all()).query.order_by


def test_a_listed_sort_orders_by_its_fields_and_the_primary_key():
    assert order_of(listing("sort=number")) == ("number", "pk")
    assert order_of(listing("sort=-number")) == ("-number", "-pk")
    assert order_of(listing("sort=-student")) == ("-student__name", "opened_on", "-pk")


def test_no_sort_is_the_default_order():
    assert order_of(listing()) == ("-updated_at", "-pk")


def test_a_sort_not_listed_falls_back_to_the_default():
    for bad in ("password", "-student__password", "--number", "number,id", "?", "", "-"):
        rows = listing(f"sort={bad}")
        assert rows.sort == "-updated", bad
        assert order_of(rows) == ("-updated_at", "-pk"), bad


def test_an_expression_sort_reverses_descending():
    rows = listing("sort=-risk", sorts={**SORTS, "risk": in_order("risk_level", ["a", "b"])})
    first, last = order_of(rows)
    assert first.descending and last == "-pk"


def test_in_order_ranks_by_position_and_puts_unknown_values_last():
    rank = in_order("status", ["open", "closed"])
    assert [w.result.value for w in rank.cases] == [0, 1]
    assert rank.default.value == 2


def test_columns_link_to_the_other_direction_and_keep_the_filters():
    columns = listing("q=김&sort=number&page=3").columns
    assert columns["number"].order == "ascending"
    assert columns["number"].query == "q=%EA%B9%80&sort=-number"
    assert columns["student"].order == "none"
    assert columns["student"].query == "q=%EA%B9%80&sort=student"
    assert columns["updated"].id == "sort-cases-updated"
    assert listing().columns["updated"].order == "descending"


def test_the_filters_and_sort_come_back_when_the_page_is_opened_without_them():
    session = {}
    listing("q=김&status=active&sort=number&page=2", session).remember()
    back = listing("", session)
    assert back.restored
    assert back.get("q") == "김" and back.get("status") == "active"
    assert back.sort == "number"
    assert "page" not in back.params
    # A page link keeps them too.
    assert listing("page=2", session).get("q") == "김"


def test_new_filters_replace_the_kept_ones_and_keep_the_sort():
    session = {}
    listing("q=김&sort=number", session).remember()
    rows = listing("status=closed", session)
    assert rows.get("q") is None and rows.get("status") == "closed"
    assert rows.sort == "number"


def test_each_page_keeps_its_own():
    session = {}
    listing("q=김", session, key="cases").remember()
    assert listing("", session, key="students").get("q") is None


def test_reset_forgets_the_kept_filters():
    session = {}
    listing("q=김&sort=number", session).remember()
    cleared = listing("reset=1", session)
    assert cleared.get("q") is None and cleared.sort == "-updated" and not cleared.active
    cleared.remember()
    assert session == {}
    assert listing("", session).get("q") is None


def test_a_value_is_kept_only_once_the_page_remembers_it():
    session = {}
    listing("q=김", session)  # the page refused it: remember() was never called
    assert listing("", session).get("q") is None


def test_clearing_every_filter_forgets_them():
    session = {}
    listing("q=김", session).remember()
    listing("q=&status=", session).remember()
    assert session == {}


def test_the_session_is_written_only_when_what_it_keeps_changes():
    class Session(dict):
        writes = 0

        def __setitem__(self, key, value):
            type(self).writes += 1
            super().__setitem__(key, value)

    session = Session()
    listing("q=김", session).remember()
    listing("q=김", session).remember()
    listing("", session).remember()
    assert Session.writes == 1


def test_a_tampered_session_value_is_ignored():
    session = {"listing:cases": {"filters": {"q": "not a list", "other": ["x"]}, "sort": "pk"}}
    rows = listing("", session)
    assert rows.get("q") is None and rows.get("other") is None and rows.sort == "-updated"
    session = {"listing:cases": "garbage"}
    assert listing("", session).sort == "-updated"


def test_a_request_without_a_session_still_sorts():
    answer = RequestFactory().get("/cases/?sort=number")
    rows = Listing(answer, "cases", sorts=SORTS, default="-updated")
    rows.remember()
    assert order_of(rows) == ("number", "pk")


def test_expression_fields_order_like_f():
    rows = listing("sort=number", sorts={"number": F("number")}, default="number")
    assert order_of(rows)[0].expression == F("number")
