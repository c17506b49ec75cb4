"""Gyms (tenants) and their host names. These tables live in the public schema only."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

TIME_ZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones())
DEFAULT_BRAND_COLOUR = "#0b6e4f"
DEFAULT_CURRENCY = "EUR"


class GymUnitSystem(models.TextChoices):
    """The same values as accounts.UnitSystem: a user without their own choice gets the gym's."""

    METRIC = "metric", _("Metric (kg, cm)")
    IMPERIAL = "imperial", _("Imperial (lb, in)")


class Gym(TenantMixin):
    name = models.CharField(_("name"), max_length=120)
    subdomain = models.CharField(_("subdomain"), max_length=63, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="UTC"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Identity: shown on the staff app, the portal, sign-in pages, emails and the admin.
    # The logo and its square icon are names in the gym's own storage (its schema's prefix),
    # served only through the gym's host; `brand_version` changes with every identity edit so
    # the stylesheet and images can be cached for long under versioned URLs.
    logo_name = models.CharField(_("logo"), max_length=200, blank=True, editable=False)
    icon_name = models.CharField(_("icon"), max_length=200, blank=True, editable=False)
    brand_colour = models.CharField(_("brand colour"), max_length=7, default=DEFAULT_BRAND_COLOUR)
    brand_version = models.PositiveIntegerField(default=1, editable=False)
    address = models.TextField(_("address"), blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    unit_system = models.CharField(
        _("default units"),
        max_length=10,
        choices=GymUnitSystem.choices,
        default=GymUnitSystem.METRIC,
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    # Email on the gym's behalf (apps/notifications/email.py): sent from `email_sender` once the
    # platform operator has verified its domain with the mail provider (SPF/DKIM); until then
    # from the platform's address under the gym's name, with replies going to `email_sender`.
    email_sender = models.EmailField(_("sender address"), blank=True)
    email_sender_verified = models.BooleanField(_("sender domain verified"), default=False)

    # The schema is cloned from TENANT_BASE_SCHEMA on save, and dropped with the gym.
    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        verbose_name = _("gym")
        verbose_name_plural = _("gyms")
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(subdomain__regex=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"),
                name="gym_subdomain_is_a_dns_label",
            ),
            models.CheckConstraint(
                condition=models.Q(brand_colour__regex=r"^#[0-9a-f]{6}$"),
                name="gym_brand_colour_is_hex",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"),
                name="gym_currency_is_iso_4217",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def create_schema(
        self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1
    ) -> bool | None:
        """Clone the template with the fast path; fall back to django-tenants' full clone (and
        its `migrate --fake`) when the template holds something the fast path cannot copy."""
        from django.db import NotSupportedError, connection, transaction
        from django_tenants.utils import get_creation_fakes_migrations, schema_exists

        base = settings.TENANT_BASE_SCHEMA
        if not (sync_schema and get_creation_fakes_migrations() and schema_exists(base)):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        from apps.tenants.cloning import clone_schema_fast
        from apps.tenants.services import spare_schema_take

        # Fastest: a schema cloned ahead of time, renamed in one statement.
        if spare_schema_take(destination=self.schema_name):
            connection.set_schema_to_public()
            return True
        try:
            with transaction.atomic():
                clone_schema_fast(source=base, destination=self.schema_name)
        except NotSupportedError:
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        finally:
            connection.set_schema_to_public()
        return True

    @property
    def host(self) -> str:
        return f"{self.subdomain}.{settings.BASE_DOMAIN}"


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self) -> str:
        return self.domain


class SpareSchema(models.Model):
    """A gym schema cloned from the template ahead of time, so sign-up only renames it.

    `template_version` fingerprints the template's applied migrations: a spare cloned before a
    migration no longer matches and is never handed out (`spare_schemas_refill` drops it).
    """

    name = models.CharField(max_length=63, unique=True)
    template_version = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("spare schema")
        verbose_name_plural = _("spare schemas")
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return self.name


# --- Opening hours -----------------------------------------------------------------------------
# Times are the gym's local wall time (Gym.time_zone), like trainers' availability.


class TimeOfDayRange(Func):
    """tsrange of two times of day on a fixed date: PostgreSQL has no range type for times, and
    an exclusion constraint needs one to refuse overlapping hours."""

    function = "TSRANGE"
    template = "TSRANGE(DATE '2000-01-01' + %(expressions)s)"
    arg_joiner = ", DATE '2000-01-01' + "
    output_field = models.DateTimeField()


class OpeningHours(models.Model):
    """One range of a weekday the gym is open (Monday is 0). A day may have several ranges
    (a lunch break) or none (closed)."""

    gym = models.ForeignKey(Gym, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), validators=[MinValueValidator(0), MaxValueValidator(6)]
    )
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ("weekday", "opens_at", "pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="tenants_hours_weekday_range"
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="tenants_hours_close_after_open"
            ),
            # Two ranges of one day may touch (09-12, 12-18) but not overlap.
            ExclusionConstraint(
                name="tenants_hours_no_overlap",
                expressions=[
                    ("gym", RangeOperators.EQUAL),
                    ("weekday", RangeOperators.EQUAL),
                    (TimeOfDayRange("opens_at", "closes_at"), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gym_id} {self.weekday} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class SpecialDay(models.Model):
    """A date whose hours differ from the week's: closed (both times empty, a holiday) or open
    from `opens_at` to `closes_at` only."""

    gym = models.ForeignKey(Gym, on_delete=models.CASCADE, related_name="special_days")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120, blank=True)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)

    class Meta:
        verbose_name = _("special day")
        verbose_name_plural = _("special days")
        ordering = ("date", "pk")
        constraints = [
            models.UniqueConstraint(fields=["gym", "date"], name="tenants_special_day_unique"),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True, closes_at__isnull=True)
                | Q(opens_at__isnull=False, closes_at__isnull=False, closes_at__gt=F("opens_at")),
                name="tenants_special_day_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gym_id} {self.date:%Y-%m-%d}"

    @property
    def is_closed(self) -> bool:
        return self.opens_at is None
