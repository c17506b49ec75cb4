"""Providers send a reading's UTC offset, not its zone. A whole-hour offset has an IANA name,
Etc/GMT-N, whose sign is POSIX's (reversed: Etc/GMT-1 is UTC+01:00); other offsets have none."""

from __future__ import annotations

# The Etc/GMT zones that exist: Etc/GMT+12 (UTC-12) to Etc/GMT-14 (UTC+14).
_EARLIEST, _LATEST = -12 * 3600, 14 * 3600


def offset_zone(seconds: int | None) -> str:
    """The IANA zone for a UTC offset in seconds east of Greenwich, or "" if none names it."""
    if seconds is None or seconds % 3600 or not _EARLIEST <= seconds <= _LATEST:
        return ""
    hours = -seconds // 3600
    return "Etc/GMT" if hours == 0 else f"Etc/GMT{hours:+d}"
