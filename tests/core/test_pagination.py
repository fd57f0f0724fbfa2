"""SlimPaginator: the page is chosen on the list's own query, then loaded with its related rows."""

import pytest

from casework.models import Case
from core.pagination import SlimPaginator
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_pages_keep_the_order_and_the_filter_and_load_related_rows(
    world, django_assert_num_queries
):
    cases = [CaseFactory(owner=world.school, lead=world.school) for _ in range(7)]
    CaseFactory(owner=world.other_school, lead=world.other_school)  # filtered out
    rows = (
        Case.objects.filter(owner=world.school)
        .select_related("student", "owner")
        .prefetch_related("members")
        .order_by("number")
    )
    expected = sorted(cases, key=lambda c: c.number)
    paginator = SlimPaginator(rows, 3)
    with django_assert_num_queries(3):  # the page's ids with the count, its rows, the prefetch
        page = paginator.get_page(2)
        names = [(c.number, c.student.name, c.owner.code, list(c.members.all())) for c in page]
    assert [n for n, *_rest in names] == [c.number for c in expected[3:6]]
    assert paginator.count == 7 and page.has_next() and page.has_previous()
    assert [c.pk for c in paginator.get_page(3)] == [expected[6].pk]


def test_annotated_lists_keep_their_annotations(world):
    from django.db.models import Value

    CaseFactory(owner=world.school, lead=world.school)
    page = SlimPaginator(Case.objects.annotate(tag=Value("x")).order_by("number"), 10).page(1)
    assert [c.tag for c in page] == ["x"]


def test_an_empty_list_is_one_empty_page(world):
    page = SlimPaginator(Case.objects.none().order_by("number"), 10).get_page(1)
    assert list(page) == [] and page.paginator.count == 0


def test_a_count_the_caller_has_spares_the_count_query(world, django_assert_num_queries):
    for _ in range(3):
        CaseFactory(owner=world.school, lead=world.school)
    paginator = SlimPaginator(Case.objects.order_by("number"), 2, count=3)
    with django_assert_num_queries(2):  # the page's ids and its rows, no COUNT
        page = paginator.get_page(2)
        assert len(list(page)) == 1 and page.paginator.num_pages == 2


def test_a_page_past_the_end_falls_back_to_counting(world):
    cases = sorted(
        (CaseFactory(owner=world.school, lead=world.school) for _ in range(3)),
        key=lambda c: c.number,
    )
    paginator = SlimPaginator(Case.objects.order_by("number"), 2)
    page = paginator.get_page(9)  # past the end: the last page, as Django's paginator gives
    assert page.number == 2 and [c.pk for c in page] == [cases[2].pk]
    assert paginator.count == 3
    assert [c.pk for c in SlimPaginator(Case.objects.order_by("number"), 2).get_page("x")] == [
        cases[0].pk,
        cases[1].pk,
    ]
