"""Korean business days for referral deadlines (DESIGN.md §4).

A business day is a weekday that is not a public holiday of the Republic of Korea. The holidays
come from the maintained `holidays` library (lunar 설날 and 추석, substitute holidays, election
days), so nothing here needs updating each year.
"""

from datetime import date, timedelta
from functools import cache

import holidays
from django.conf import settings
from django.utils import timezone


def today() -> date:
    return timezone.localdate()


@cache
def _korean_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("KR", years=year, language="ko")


def holiday_name(day: date) -> str | None:
    return _korean_holidays(day.year).get(day)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


def add_business_days(start: date, days: int) -> date:
    """The business day `days` business days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_business_day(day):
            left -= 1
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after `start` up to and including `end` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_business_day(day):
            count += 1
    return count


def default_respond_by(urgency: str, sent_on: date | None = None) -> date:
    """The respond-by date a sender gets unless they choose one: fewer business days the more
    urgent the referral (settings.REFERRAL_RESPONSE_DAYS)."""
    days = settings.REFERRAL_RESPONSE_DAYS.get(urgency, settings.REFERRAL_RESPONSE_DAYS["normal"])
    return add_business_days(sent_on or today(), days)
