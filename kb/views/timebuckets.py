"""The timeline's histogram: a bucket (week, month or year) chosen from the range, dates in words.

The counts come from the event index (kb.derived.events); this module only chooses the unit
and says every period, day and span as a reader would ("March 2016", "the week of 7 March 2016", "2016").
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

UNITS = ("week", "month", "year")
MAX_BARS = 160  # more bars than this are slivers on a desktop; the next coarser unit is used
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@dataclass
class Bar:
    """One bar of the histogram: the events whose first day falls in [start, end), and their deaths."""

    start: date
    end: date  # exclusive
    unit: str
    count: int
    fatalities: int  # sum of the best estimates

    @property
    def label(self) -> str:
        """The period in words: 'March 2016', 'week of 7 March 2016', '2016'."""
        return say_period(self.start, self.unit)

    @property
    def last_day(self) -> date:
        """The last day of the period (inclusive), for links and filters."""
        return self.end - timedelta(days=1)


def floor(day: date, unit: str) -> date:
    """The first day of the period of ``unit`` holding ``day`` (weeks start on Monday, as ISO's)."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def step(start: date, unit: str) -> date:
    """The first day of the period after the one starting at ``start``."""
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def periods(first: date, last: date, unit: str) -> int:
    """How many periods of ``unit`` the days first..last touch."""
    if unit == "week":
        return (floor(last, "week") - floor(first, "week")).days // 7 + 1
    if unit == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return last.year - first.year + 1


def choose_unit(first: date, last: date, wanted: str | None = None) -> str:
    """The finest unit that draws first..last in at most MAX_BARS bars (or ``wanted`` if it does)."""
    if wanted in UNITS and periods(first, last, wanted) <= MAX_BARS:
        return wanted
    return next((u for u in UNITS if periods(first, last, u) <= MAX_BARS), "year")


def bars(buckets: Iterable[Any], unit: str) -> list[Bar]:
    """The index's buckets (start, count, fatalities; kb.derived.events.EventIndex.histogram) as bars."""
    return [Bar(b.start, step(b.start, unit), unit, b.count, b.fatalities) for b in buckets]


def say_day(day: date) -> str:
    """A day in words: '3 September 2015'."""
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def say_period(start: date, unit: str) -> str:
    """A period in words: 'week of 7 March 2016', 'March 2016', '2016'."""
    if unit == "week":
        return f"week of {say_day(start)}"
    if unit == "month":
        return f"{calendar.month_name[start.month]} {start.year}"
    return str(start.year)


def say_span(first: date, last: date) -> str:
    """Two days (inclusive) as one phrase, sharing what they share: '13 to 14 December 2013'."""
    if first == last:
        return say_day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} to {last.day} {calendar.month_name[first.month]} {first.year}"
    if first.year == last.year:
        return f"{first.day} {calendar.month_name[first.month]} to {say_day(last)}"
    return f"{say_day(first)} to {say_day(last)}"


def ticks(buckets: list[Bar]) -> list[tuple[int, str]]:
    """A few axis labels (index of the bar, words) spread evenly: at most about eight."""
    if not buckets:
        return []
    unit = buckets[0].unit
    # label periods that start a year (weeks and months) or every nth year
    marks = [i for i, b in enumerate(buckets) if unit == "year" or b.start == floor(b.start, "year")
             or (unit == "week" and b.start.day <= 7)]
    if not marks:
        marks = [0]
    every = max(1, -(-len(marks) // 8))
    out = []
    for i in marks[::every]:
        b = buckets[i]
        words = str(b.start.year) if unit != "week" or b.start.month == 1 else \
            f"{calendar.month_abbr[b.start.month]} {b.start.year}"
        out.append((i, words))
    return out


def iso_words(text: str) -> str:
    """Text with its ISO days (2013-12-13, as imported labels carry them) said in words."""
    def say(m: re.Match[str]) -> str:
        try:
            return say_day(date(int(m[1]), int(m[2]), int(m[3])))
        except ValueError:
            return m[0]
    return _ISO_DAY.sub(say, text)


def say_dates(start: str, end: str) -> str:
    """An event's first and last day (ISO text, either may be "") in words."""
    first = date.fromisoformat(start) if start else None
    last = date.fromisoformat(end) if end else None
    if first and last:
        return say_span(first, last) if last >= first else say_day(first)
    if first:
        return say_day(first)
    return f"until {say_day(last)}" if last else "date not given"
