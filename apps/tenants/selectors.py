from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django_tenants.utils import get_public_schema_name

from apps.tenants.models import Domain, Gym, OpeningHours, SpecialDay


def gym_list() -> QuerySet[Gym]:
    """Every real gym: neither the public schema nor the template."""
    return Gym.objects.exclude(
        schema_name__in=[get_public_schema_name(), settings.TENANT_BASE_SCHEMA]
    )


def active_gym_list() -> QuerySet[Gym]:
    """Every real gym that is not deactivated: the ones periodic work is done for."""
    return gym_list().filter(is_active=True)


def gym_is_served(gym: Gym) -> bool:
    """Whether a gym's hosts answer at all. A deactivated gym answers nothing (pages, API,
    health, WebSockets), exactly as a host with no gym; its schema and data stay."""
    return gym.is_active


def served_gym_for_host(host: str) -> Gym | None:
    """The gym a host serves (pages, API, WebSockets), or None: no gym there, the public
    schema or the template, or a deactivated gym."""
    domain = (
        Domain.objects.select_related("tenant")
        .filter(domain=host)
        .exclude(tenant__schema_name__in=[get_public_schema_name(), settings.TENANT_BASE_SCHEMA])
        .first()
    )
    if domain is None or not gym_is_served(domain.tenant):
        return None
    return domain.tenant


def subdomain_is_taken(*, subdomain: str) -> bool:
    host = f"{subdomain}.{settings.BASE_DOMAIN}"
    return (
        Gym.objects.filter(subdomain=subdomain).exists()
        or Domain.objects.filter(domain=host).exists()
    )


def gym_url(
    *, gym: Gym, path: str = "/", port: str | None = None, scheme: str | None = None
) -> str:
    """Absolute URL on the gym's own host. `port` keeps a non-default port (local development)."""
    scheme = scheme or settings.URL_SCHEME
    port = settings.PUBLIC_PORT if port is None else port
    netloc = gym.host if not port else f"{gym.host}:{port}"
    return f"{scheme}://{netloc}{path}"


def gym_url_for_request(*, gym: Gym, request: HttpRequest, path: str = "/") -> str:
    """The gym's URL as seen by the client of `request` (same scheme, same non-default port)."""
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    return gym_url(
        gym=gym, path=path, port="" if port == default_port else port, scheme=request.scheme
    )


def current_gym() -> Gym:
    """The gym whose schema the connection is in (schema_context leaves only a stand-in)."""
    from django.db import connection

    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Gym):
        return tenant
    return Gym.objects.get(schema_name=connection.schema_name)


# --- Opening hours ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekdayHours:
    """One weekday of the gym's week: its ranges in order, none when closed."""

    weekday: int
    ranges: list[OpeningHours]

    @property
    def is_closed(self) -> bool:
        return not self.ranges

    @property
    def name(self) -> str:
        return str(WEEKDAYS[self.weekday])


def opening_hours_list(*, gym: Gym) -> QuerySet[OpeningHours]:
    return OpeningHours.objects.filter(gym=gym).order_by("weekday", "opens_at", "pk")


def gym_opening_hours(gym: Gym) -> list[WeekdayHours]:
    """The gym's week, Monday first, in one query."""
    by_day: dict[int, list[OpeningHours]] = {day: [] for day in range(7)}
    for hours in opening_hours_list(gym=gym):
        by_day[hours.weekday].append(hours)
    return [WeekdayHours(weekday=day, ranges=ranges) for day, ranges in by_day.items()]


def special_day_list(*, gym: Gym, since: date | None = None) -> QuerySet[SpecialDay]:
    """The gym's special days, from `since` on when given."""
    days = SpecialDay.objects.filter(gym=gym).order_by("date", "pk")
    return days.filter(date__gte=since) if since is not None else days


def gym_is_open(gym: Gym, at: datetime) -> bool:
    """Whether the gym is open at the instant `at`, read on its own wall clock: a special day
    replaces that weekday's hours."""
    local = at.astimezone(ZoneInfo(gym.time_zone))
    moment = local.time().replace(tzinfo=None)
    special = SpecialDay.objects.filter(gym=gym, date=local.date()).first()
    if special is not None:
        return (
            special.opens_at is not None
            and special.closes_at is not None
            and special.opens_at <= moment < special.closes_at
        )
    return OpeningHours.objects.filter(
        gym=gym, weekday=local.weekday(), opens_at__lte=moment, closes_at__gt=moment
    ).exists()


def gym_zone() -> ZoneInfo:
    """The current gym's time zone: every wall-clock rule (opening hours, booking windows,
    "today") is read in it."""
    return ZoneInfo(current_gym().time_zone)


def gym_today(now: datetime | None = None) -> date:
    """Today on the gym's wall clock (not the server's, not UTC)."""
    return (now or timezone.now()).astimezone(gym_zone()).date()
