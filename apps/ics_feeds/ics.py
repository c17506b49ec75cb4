"""Calendar feeds in iCalendar (RFC 5545) through the `icalendar` package, which handles the
escaping, line folding and time formats; times are written in UTC."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar
from icalendar import Event as CalendarEvent


@dataclass(frozen=True)
class Event:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str = ""
    description: str = ""
    cancelled: bool = False


def calendar_text(*, events: Iterable[Event], name: str, now: datetime) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//FitnessCRM//Calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    stamp = now.astimezone(UTC)
    for event in events:
        entry = CalendarEvent()
        entry.add("uid", event.uid)
        entry.add("dtstamp", stamp)
        entry.add("dtstart", event.starts_at.astimezone(UTC))
        entry.add("dtend", event.ends_at.astimezone(UTC))
        entry.add("summary", event.summary)
        if event.location:
            entry.add("location", event.location)
        if event.description:
            entry.add("description", event.description)
        entry.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
        calendar.add_component(entry)
    return calendar.to_ical().decode("utf-8")
