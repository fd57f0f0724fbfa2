"""The report dashboard (/casework/reports/): each reader's schools as charts with a table of the
same figures beside each, small cells suppressed, filters that keep what was chosen, and a 400
with the error beside the field for a value that is not offered."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from casework.models import ReportFacts

pytestmark = pytest.mark.django_db
URL = reverse("casework:report_dashboard")


def page(user, query="half=2026H1"):
    client = Client()
    client.force_login(user)
    return client.get(f"{URL}?{query}")


def chart(response, key):
    found = re.search(
        rf'<script id="chart-{key}-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert found, key
    return json.loads(found[1])


def test_the_analyst_sees_the_province_by_district_with_charts_and_tables(half):
    response = page(half["analyst"])
    assert response.status_code == 200
    text = response.content.decode()
    assert "2026년 상반기" in text
    assert "서울특별시남부교육지원청" in text and "서울특별시북부교육지원청" in text
    assert 'name="district"' in text  # two offices to choose from
    month = chart(response, "month")
    assert month["labels"][:2] == ["2026년 1월", "2026년 2월"]
    # January's 1 is hidden, and April's 5 with it (else the total gives January away).
    assert month["series"][0]["data"] == [None, 6, 7, None, 0, 0]
    domain = chart(response, "domain")
    assert domain["horizontal"] is True and "복지" in domain["labels"]
    assert text.count('role="img"') == 3
    assert "<td>&lt;5</td>" in text  # the tables show what the charts leave out


def test_a_centre_head_sees_the_schools_of_their_office_only(half):
    response = page(half["centrehead"])
    assert response.status_code == 200
    text = response.content.decode()
    assert "이음초등학교" in text and "새싹초등학교" in text
    assert "한빛초등학교" not in text
    assert 'name="district"' not in text


def test_a_principal_sees_their_school(half):
    text = page(half["principal"]).content.decode()
    assert "이음초등학교" in text and "새싹초등학교" not in text


def test_filters_narrow_and_stay_chosen(half):
    response = page(half["analyst"], f"half=2026H1&district={half.bukbu.pk}&domain=welfare")
    text = response.content.decode()
    assert response.status_code == 200
    assert "한빛초등학교" in text and "이음초등학교" not in text
    assert re.search(r'<option value="welfare" selected>', text)


@pytest.mark.parametrize(
    "query, field",
    [("half=2019H1", "half"), ("domain=cooking", "domain"), ("district=nowhere", "district")],
)
def test_a_value_not_offered_is_a_400_beside_its_field(half, query, field):
    response = page(half["analyst"], query)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()


@pytest.mark.parametrize("username", ["coordinator", "teacher", "partner", "casemanager"])
def test_people_who_work_cases_do_not_read_the_dashboard(half, username):
    assert page(half[username]).status_code == 403


def test_the_menu_offers_it_to_readers_only(half):
    assert URL in page(half["analyst"]).content.decode()
    client = Client()
    client.force_login(half["coordinator"])
    assert f'href="{URL}"' not in client.get(reverse("home"), follow=True).content.decode()


def test_the_dashboard_names_nobody(half):
    text = page(half["analyst"]).content.decode()
    from casework.models import Student

    for name in Student.objects.values_list("name", flat=True):
        assert name not in text


def test_the_dashboard_says_when_its_figures_are_from(half):
    stamp = timezone.localtime(ReportFacts.objects.get().refreshed_at)
    text = page(half["analyst"]).content.decode()
    assert f"{date_format(stamp, 'DATETIME_FORMAT')} 기준 수치입니다." in text
