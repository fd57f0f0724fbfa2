"""Business days around Korean public holidays (casework/deadlines.py), which referral
deadlines count in."""

from datetime import date

import pytest

from casework import deadlines

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (date(2026, 2, 13), 1, date(2026, 2, 19)),  # Fri before 설날 (16–18 Feb) → Thu
        (date(2026, 2, 12), 3, date(2026, 2, 20)),
        (date(2026, 9, 23), 1, date(2026, 9, 28)),  # 추석 24–26 Sep (Thu–Sat) → Mon
        (date(2026, 10, 2), 1, date(2026, 10, 6)),  # 개천절 substitute Mon 5 Oct
        (date(2027, 2, 5), 1, date(2027, 2, 10)),  # 설날 6–8 Feb + substitute 9 Feb
        (date(2026, 11, 20), 5, date(2026, 11, 27)),  # plain week
    ],
)
def test_business_days_around_korean_holidays(start, days, expected):
    assert deadlines.add_business_days(start, days) == expected


def test_holiday_names_and_counting():
    assert deadlines.holiday_name(date(2026, 9, 25)) == "추석"
    assert not deadlines.is_business_day(date(2026, 2, 17))
    assert deadlines.business_days_between(date(2026, 2, 13), date(2026, 2, 20)) == 2
