"""The staff app's navigation: its groups, what each role may open, and which entry is current.

One list, so the sidebar on a desktop and the menu on a phone show the same entries, and the
browser test that visits every page the navigation offers reads the same list. An entry whose
page is not installed (its URL name does not resolve) is left out rather than linking to a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.accounts.context_processors import Viewer
from apps.accounts.models import Role
from apps.accounts.roles import has_role


def _staff(viewer: Viewer) -> bool:
    return viewer.is_staff_member


def _management(viewer: Viewer) -> bool:
    return viewer.is_management


def _lead_handlers(viewer: Viewer) -> bool:
    return viewer.is_management or viewer.is_front_desk


def _builders(viewer: Viewer) -> bool:
    return viewer.is_coaching_staff


def _trainer(viewer: Viewer) -> bool:
    return viewer.is_trainer


def _sellers(viewer: Viewer) -> bool:
    return viewer.is_management or viewer.is_front_desk


def _owner(viewer: Viewer) -> bool:
    return has_role(viewer.user, Role.OWNER)


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str | Promise
    icon: str
    may_see: Callable[[Viewer], bool]
    # Paths of pages reached from this entry (a client's progress from Clients, say).
    also: tuple[str, ...] = ()
    # A count shown beside the entry ("messages": unread conversations).
    badge: str = ""


@dataclass(frozen=True)
class NavGroup:
    label: str | Promise
    entries: tuple[NavEntry, ...]


@dataclass
class NavLink:
    url: str
    label: str | Promise
    icon: str
    current: bool = False
    prefixes: tuple[str, ...] = field(default=(), repr=False)
    badge: str = ""


@dataclass
class NavSection:
    label: str | Promise
    links: list[NavLink]


NAVIGATION: tuple[NavGroup, ...] = (
    NavGroup(
        "",
        (
            NavEntry("dashboard:home", _("Today"), "house", _staff),
            NavEntry("messaging:inbox", _("Messages"), "message-circle", _staff, badge="messages"),
        ),
    ),
    NavGroup(
        _("People"),
        (
            NavEntry(
                "crm:client_list",
                _("Clients"),
                "users",
                _staff,
                also=("/progress/clients/", "/workouts/clients/"),
            ),
            NavEntry("crm:lead_list", _("Leads"), "user-plus", _lead_handlers),
            NavEntry("automations:task_list", _("Tasks"), "list-checks", _staff),
            NavEntry("crm:trainer_list", _("Trainers"), "dumbbell", _staff),
            NavEntry("accounts:team", _("Team"), "id-card", _management),
        ),
    ),
    NavGroup(
        _("Schedule"),
        (
            NavEntry("scheduling:calendar", _("Calendar"), "calendar", _staff),
            NavEntry("scheduling:class_list", _("Classes"), "calendar-days", _staff),
            NavEntry(
                "scheduling:checkin",
                _("Check-in"),
                "circle-check",
                _staff,
                also=("/schedule/kiosk/",),
            ),
            NavEntry("gym_settings:availability_list", _("My availability"), "clock", _trainer),
        ),
    ),
    NavGroup(
        _("Training"),
        (
            NavEntry("training:exercise_list", _("Exercises"), "book-open", _builders),
            NavEntry("training:plan_list", _("Plans"), "clipboard-list", _builders),
        ),
    ),
    # Reports join Business once they exist.
    NavGroup(
        _("Business"),
        (
            NavEntry("billing:catalogue", _("Memberships"), "credit-card", _sellers),
            NavEntry("billing:failed_payments", _("Failed payments"), "circle-alert", _sellers),
            NavEntry("automations:rule_list", _("Automations"), "zap", _management),
            NavEntry("campaigns:list", _("Campaigns"), "mail", _management),
        ),
    ),
    NavGroup(
        _("Settings"),
        (
            NavEntry("gym_settings:index", _("Gym settings"), "settings", _management),
            NavEntry("scheduling:policies", _("Booking rules"), "calendar-clock", _management),
            NavEntry("connect:settings", _("Payments"), "landmark", _owner),
            NavEntry("sms:settings", _("Text messages"), "phone", _management),
            NavEntry("wearables:overview", _("Wearables sync"), "activity", _management),
            NavEntry("accounts:invitations", _("Invitations"), "mail", _management),
            NavEntry("notifications:log", _("Delivery log"), "mail", _management),
            NavEntry("audit:list", _("Audit log"), "scroll-text", _management),
            NavEntry("account_lockouts", _("Lockouts"), "lock", _management),
        ),
    ),
)


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _matches(path: str, prefix: str) -> bool:
    # The home page is "/", which every path starts with: it is current only on itself.
    return path == prefix if prefix == "/" else path.startswith(prefix)


def staff_navigation(*, viewer: Viewer, path: str) -> list[NavSection]:
    """The groups and entries `viewer` may use, the entry for `path` marked current (the one
    whose address is the longest match, so "My availability" wins over "Gym settings")."""
    if not viewer.is_staff_member:
        return []
    sections: list[NavSection] = []
    links: list[NavLink] = []
    for group in NAVIGATION:
        section = NavSection(group.label, [])
        for entry in group.entries:
            if not entry.may_see(viewer):
                continue
            url = _url(entry.url_name)
            if not url:
                continue
            link = NavLink(
                url, entry.label, entry.icon, prefixes=(url, *entry.also), badge=entry.badge
            )
            section.links.append(link)
            links.append(link)
        if section.links:
            sections.append(section)
    best: tuple[int, NavLink] | None = None
    for link in links:
        for prefix in link.prefixes:
            if _matches(path, prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), link)
    if best is not None:
        best[1].current = True
    return sections


def staff_navigation_urls(*, viewer: Viewer) -> list[str]:
    """Every address the navigation offers `viewer`, in order."""
    return [
        link.url for section in staff_navigation(viewer=viewer, path="") for link in section.links
    ]
