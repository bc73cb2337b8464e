"""Day numbers of Gregorian dates: the same as Python's calendar where it reaches, and
reversible everywhere."""

import calendar
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from inspector.gregorian import civil_from_days, days_from_civil, days_in

EPOCH = date(1970, 1, 1).toordinal()


@given(st.dates())
def test_a_date_datetime_knows_has_its_day_number(day: date) -> None:
    assert days_from_civil(day.year, day.month, day.day) == day.toordinal() - EPOCH
    assert civil_from_days(day.toordinal() - EPOCH) == (day.year, day.month, day.day)


@given(st.integers(-(10**9), 10**9))
def test_every_day_number_is_a_date_and_back(days: int) -> None:
    year, month, day = civil_from_days(days)
    assert 1 <= month <= 12 and 1 <= day <= days_in(month, year)
    assert days_from_civil(year, month, day) == days


@given(st.integers(1, 9999), st.integers(1, 12))
def test_a_month_has_as_many_days_as_calendar_says(year: int, month: int) -> None:
    assert days_in(month, year) == calendar.monthrange(year, month)[1]
