"""The staff navigation: each role is offered only the pages it may open, the current page is
marked by the longest matching address, and every icon it names is in the vendored sprite."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from apps.accounts.context_processors import Viewer
from apps.dashboard.navigation import NAVIGATION, staff_navigation, staff_navigation_urls
from tests.crm.conftest import CrmGym

SPRITE = Path(settings.BASE_DIR) / "static" / "vendor" / "lucide" / "sprite.svg"


def _labels(crm: CrmGym, role: str) -> list[str]:
    viewer = Viewer(crm.user(role))
    return [str(link.label) for s in staff_navigation(viewer=viewer, path="/") for link in s.links]


def test_each_role_is_offered_what_it_may_open(crm_a: CrmGym) -> None:
    owner = _labels(crm_a, "owner")
    assert {"Today", "Clients", "Team", "Audit log", "Payments", "Memberships"} <= set(owner)
    manager = _labels(crm_a, "manager")
    assert "Payments" not in manager  # Stripe is the owner's
    assert "Team" in manager
    desk = _labels(crm_a, "desk")
    assert {"Leads", "Check-in", "Memberships"} <= set(desk)
    assert not {"Plans", "Exercises", "Team", "Audit log"} & set(desk)
    trainer = _labels(crm_a, "tina")
    assert {"My availability", "Plans", "Calendar"} <= set(trainer)
    assert not {"Leads", "Team", "Memberships", "Gym settings"} & set(trainer)
    assert staff_navigation(viewer=Viewer(crm_a.cara_user), path="/") == []


def test_the_longest_matching_address_is_current(crm_a: CrmGym) -> None:
    viewer = Viewer(crm_a.tina.user)
    for path, current in [
        ("/", "Today"),
        ("/clients/12/", "Clients"),
        ("/progress/clients/12/", "Clients"),
        ("/settings/availability/3/", "My availability"),
    ]:
        marked = [
            str(link.label)
            for section in staff_navigation(viewer=viewer, path=path)
            for link in section.links
            if link.current
        ]
        assert marked == [current], path
    assert "/" in staff_navigation_urls(viewer=viewer)


def test_every_icon_is_in_the_sprite() -> None:
    symbols = set(re.findall(r'<symbol id="([^"]+)"', SPRITE.read_text()))
    icons = {entry.icon for group in NAVIGATION for entry in group.entries}
    assert icons <= symbols, icons - symbols
    for template in (Path(settings.BASE_DIR) / "templates").rglob("*.html"):
        for name in re.findall(r'{% icon "([a-z0-9-]+)"', template.read_text()):
            assert name in symbols, (template, name)
