"""Where and when trainers work and the 1:1 sessions they run. Tables live in each gym's schema.

Times of day in availability are the gym's local time (Gym.time_zone); appointment instants are
stored in UTC. Double booking is refused by PostgreSQL exclusion constraints, so two requests
racing for the same slot cannot both win, whatever the application checks first.
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from apps.crm.models import Client, Trainer


class TsTzRange(Func):
    """tstzrange(start, end) with the default half-open bounds: back-to-back sessions touch
    without overlapping."""

    function = "TSTZRANGE"
    output_field = models.DateTimeField()


class Location(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    address = models.TextField(_("address"), blank=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.name


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("name"), max_length=120)
    capacity = models.PositiveIntegerField(_("capacity"), default=1)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ("location__name", "name", "pk")
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="scheduling_room_unique"),
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="scheduling_room_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location}: {self.name}"


class Availability(models.Model):
    """A weekly window a trainer works, in the gym's local time (Monday is 0)."""

    trainer = models.ForeignKey(Trainer, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), validators=[MinValueValidator(0), MaxValueValidator(6)]
    )
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")
        ordering = ("trainer", "weekday", "start_time")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="scheduling_weekday_range"
            ),
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="scheduling_availability_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trainer_id} {self.weekday} {self.start_time}-{self.end_time}"


class ExceptionKind(models.TextChoices):
    TIME_OFF = "time_off", _("Time off")
    EXTRA = "extra", _("Extra hours")


class AvailabilityException(models.Model):
    """A one-off change to the weekly windows: time off removes hours, extra hours add some."""

    trainer = models.ForeignKey(
        Trainer, on_delete=models.CASCADE, related_name="availability_exceptions"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    kind = models.CharField(_("kind"), max_length=16, choices=ExceptionKind.choices)

    class Meta:
        verbose_name = _("availability exception")
        verbose_name_plural = _("availability exceptions")
        ordering = ("starts_at", "pk")
        indexes = [models.Index(fields=["trainer", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="scheduling_exception_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ExceptionKind.values), name="scheduling_exception_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at:%Y-%m-%d %H:%M}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    LATE_CANCELLED = "late_cancelled", _("Cancelled late")
    NO_SHOW = "no_show", _("No-show")


# Statuses that hold the trainer's and the room's time. A cancelled session frees it; a no-show
# does not need to (it is in the past), so only these two block.
BLOCKING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)


class Appointment(models.Model):
    """A 1:1 session, in a room or online."""

    trainer = models.ForeignKey(Trainer, on_delete=models.PROTECT, related_name="appointments")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="appointments")
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    video_link = models.URLField(_("video link"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ("starts_at", "pk")
        indexes = [
            models.Index(fields=["client", "starts_at"]),
            models.Index(fields=["starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="scheduling_appointment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AppointmentStatus.values),
                name="scheduling_appointment_status",
            ),
            ExclusionConstraint(
                name="scheduling_trainer_not_double_booked",
                expressions=[
                    ("trainer", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=BLOCKING_STATUSES),
            ),
            ExclusionConstraint(
                name="scheduling_room_not_double_booked",
                expressions=[
                    ("room", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=BLOCKING_STATUSES, room__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trainer} / {self.client} @ {self.starts_at:%Y-%m-%d %H:%M}"


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key` header, so a client retrying
    after a lost response gets that answer again instead of a second booking."""

    key = models.CharField(max_length=255)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=255)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="scheduling_idempotency_unique")
        ]

    def __str__(self) -> str:
        return self.key
