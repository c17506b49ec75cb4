from zoneinfo import ZoneInfo

import pytest

from apps.wearables.providers.apple_health.parser import etc_zone
from apps.wearables.timezones import offset_zone


@pytest.mark.parametrize(
    ("seconds", "zone"),
    [
        (3600, "Etc/GMT-1"),
        (-7 * 3600, "Etc/GMT+7"),
        (0, "Etc/GMT"),
        (14 * 3600, "Etc/GMT-14"),
        (-12 * 3600, "Etc/GMT+12"),
        (5 * 3600 + 1800, ""),  # India: no Etc/ zone names a half hour
        (-13 * 3600, ""),  # no such zone
        (None, ""),
    ],
)
def test_a_whole_hour_offset_names_an_existing_zone(seconds, zone) -> None:  # type: ignore[no-untyped-def]
    assert offset_zone(seconds) == zone
    if zone:
        ZoneInfo(zone)


def test_an_apple_date_names_the_zone_of_its_offset() -> None:
    assert etc_zone("2024-05-01 07:30:00 +0100") == "Etc/GMT-1"
    assert etc_zone("2024-05-01 07:30:00 -0700") == "Etc/GMT+7"
    assert etc_zone("2024-05-01 07:30:00 +0000") == "Etc/GMT"
    assert etc_zone("2024-05-01 07:30:00 +0530") == ""
    assert etc_zone("2024-05-01 07:30:00") == ""
