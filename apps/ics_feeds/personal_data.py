"""What the calendar feeds and reminders hold about a person, for export and erasure."""

from __future__ import annotations

from apps.privacy.registry import personal_data

# A feed is the person's private credential: erasing them deletes it.
personal_data.register("calendars.CalendarFeed", user_path="user")
