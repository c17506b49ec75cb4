"""Where and when trainers work and the 1:1 sessions they run. Tables live in each gym's schema.

Times of day in availability are the gym's local time (Gym.time_zone); appointment instants are
stored in UTC. Double booking is refused by PostgreSQL exclusion constraints, so two requests
racing for the same slot cannot both win, whatever the application checks first.
"""

from __future__ import annotations

from datetime import datetime

from dateutil.rrule import rrule, rruleset, rrulestr
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel
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


class Appointment(TimeStampedModel):
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
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)

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


# --- Group classes ------------------------------------------------------------------------------


class ClassType(models.Model):
    """A kind of class (yoga, spin...), with the defaults its series and occurrences start from
    and its booking rules."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    default_capacity = models.PositiveIntegerField(_("default capacity"), default=10)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=60)
    colour = models.CharField(_("colour"), max_length=7, default="#3366cc")
    # Booking window: opens this many days before the start, closes this many minutes before.
    booking_opens_days = models.PositiveIntegerField(_("booking opens (days before)"), default=14)
    booking_closes_minutes = models.PositiveIntegerField(
        _("booking closes (minutes before)"), default=0
    )
    late_cancel_minutes = models.PositiveIntegerField(
        _("late cancel window (minutes)"), default=12 * 60
    )

    class Meta:
        verbose_name = _("class type")
        verbose_name_plural = _("class types")
        ordering = ("name", "pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(default_capacity__gte=0), name="scheduling_classtype_capacity"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1), name="scheduling_classtype_duration"
            ),
        ]

    def __str__(self) -> str:
        return self.name


def parse_recurrence(rule: str, *, dtstart: datetime) -> rrule | rruleset:
    """An RFC 5545 rule read by dateutil; a ValidationError naming `rrule` when it cannot be."""
    try:
        return rrulestr(rule, dtstart=dtstart)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        # dateutil's parser reports bad rules with any of these (an unknown name, a missing
        # "=", a value out of range).
        raise ValidationError(
            {
                "rrule": _(
                    "Not a recurrence rule. Write it as in a calendar, for example "
                    "FREQ=WEEKLY;BYDAY=MO,WE for every Monday and Wednesday."
                )
            },
            code="invalid_rrule",
        ) from error


def validate_recurrence(rule: str) -> None:
    try:
        parse_recurrence(rule, dtstart=datetime(2000, 1, 1))  # noqa: DTZ001 - local wall time
    except ValidationError as error:
        raise ValidationError(error.message_dict["rrule"], code="invalid_rrule") from error


class ClassSeries(models.Model):
    """A recurring class: an RFC 5545 rule (e.g. "FREQ=WEEKLY;BYDAY=MO,WE") at a local wall
    time of the gym, from `starts_on` to `ends_on` (open-ended when null)."""

    class_type = models.ForeignKey(ClassType, on_delete=models.PROTECT, related_name="series")
    trainer = models.ForeignKey(
        Trainer, on_delete=models.SET_NULL, null=True, blank=True, related_name="class_series"
    )
    room = models.ForeignKey(
        Room, on_delete=models.SET_NULL, null=True, blank=True, related_name="class_series"
    )
    capacity = models.PositiveIntegerField(_("capacity"))
    local_start_time = models.TimeField(_("start time (local)"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    rrule = models.CharField(_("recurrence rule"), max_length=255, validators=[validate_recurrence])
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("class series")
        verbose_name_plural = _("class series")
        ordering = ("starts_on", "pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=0), name="scheduling_classseries_capacity"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="scheduling_classseries_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.class_type} {self.rrule} {self.local_start_time}"


class ClassOccurrence(models.Model):
    """One class on one day. `edited` marks an occurrence changed on its own, which a series
    edit then leaves alone."""

    series = models.ForeignKey(
        ClassSeries, on_delete=models.SET_NULL, null=True, blank=True, related_name="occurrences"
    )
    class_type = models.ForeignKey(ClassType, on_delete=models.PROTECT, related_name="occurrences")
    trainer = models.ForeignKey(
        Trainer, on_delete=models.SET_NULL, null=True, blank=True, related_name="classes"
    )
    room = models.ForeignKey(
        Room, on_delete=models.SET_NULL, null=True, blank=True, related_name="classes"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("capacity"))
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    edited = models.BooleanField(_("edited"), default=False)

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ("starts_at", "pk")
        indexes = [models.Index(fields=["starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=0), name="scheduling_occurrence_capacity"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="scheduling_occurrence_ends_after_start",
            ),
            # Re-running the generator cannot duplicate an occurrence of a series.
            models.UniqueConstraint(
                fields=["series", "starts_at"], name="scheduling_occurrence_series_start_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.class_type} @ {self.starts_at:%Y-%m-%d %H:%M}"


class ClassBookingStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    WAITLISTED = "waitlisted", _("Waitlisted")
    CANCELLED = "cancelled", _("Cancelled")
    LATE_CANCELLED = "late_cancelled", _("Cancelled late")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")
    # Still waiting when the class started: the place ended without a spot, and what it used
    # (a credit or an allowance) was given back (apps.scheduling.classes.services.waitlists_expire).
    WAITLIST_EXPIRED = "waitlist_expired", _("No spot from the waitlist")


# A client holds at most one of these per occurrence.
ACTIVE_CLASS_STATUSES = (
    ClassBookingStatus.BOOKED,
    ClassBookingStatus.WAITLISTED,
    ClassBookingStatus.ATTENDED,
    ClassBookingStatus.NO_SHOW,
)
# Statuses that take one of the class's spots.
SPOT_STATUSES = (
    ClassBookingStatus.BOOKED,
    ClassBookingStatus.ATTENDED,
    ClassBookingStatus.NO_SHOW,
)


class ClassBooking(models.Model):
    occurrence = models.ForeignKey(
        ClassOccurrence, on_delete=models.CASCADE, related_name="bookings"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="class_bookings")
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ClassBookingStatus.choices,
        default=ClassBookingStatus.BOOKED,
    )
    waitlist_position = models.PositiveIntegerField(_("waitlist position"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)

    class Meta:
        verbose_name = _("class booking")
        verbose_name_plural = _("class bookings")
        ordering = ("occurrence", "created_at", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "client"],
                condition=Q(status__in=ACTIVE_CLASS_STATUSES),
                name="scheduling_classbooking_one_active",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ClassBookingStatus.values),
                name="scheduling_classbooking_status",
            ),
            models.CheckConstraint(
                condition=Q(waitlist_position__isnull=True) | Q(waitlist_position__gte=1),
                name="scheduling_classbooking_position",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} @ {self.occurrence_id}: {self.status}"


# --- Policies: late cancels and no-shows ------------------------------------------------------


class PolicySettings(models.Model):
    """The gym's booking policy, one row per gym (its schema): how many strikes within the
    rolling window block a client from booking, and for how long."""

    # Always true and unique: the table can hold one row only.
    singleton = models.BooleanField(default=True, unique=True, editable=False)
    strike_limit = models.PositiveIntegerField(
        _("strikes before a block"), default=3, validators=[MinValueValidator(1)]
    )
    block_days = models.PositiveIntegerField(
        _("block length (days)"), default=7, validators=[MinValueValidator(1)]
    )
    window_days = models.PositiveIntegerField(
        _("strikes count for (days)"), default=30, validators=[MinValueValidator(1)]
    )
    appointment_late_cancel_hours = models.PositiveIntegerField(
        _("late cancel window for 1:1 sessions (hours)"), default=24
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("booking policy")
        verbose_name_plural = _("booking policy")
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="scheduling_policy_singleton"),
            models.CheckConstraint(
                condition=Q(strike_limit__gte=1, block_days__gte=1, window_days__gte=1),
                name="scheduling_policy_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Booking policy"))


class StrikeKind(models.TextChoices):
    LATE_CANCEL = "late_cancel", _("Late cancel")
    NO_SHOW = "no_show", _("No-show")


class Strike(models.Model):
    """One late cancel or no-show of a client, from a 1:1 session or a class booking. Kept
    (also once waived or outside the window) so fees can be charged for them later."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="strikes")
    kind = models.CharField(_("kind"), max_length=16, choices=StrikeKind.choices)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, null=True, blank=True, related_name="strikes"
    )
    class_booking = models.ForeignKey(
        ClassBooking, on_delete=models.CASCADE, null=True, blank=True, related_name="strikes"
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    created_at = models.DateTimeField(auto_now_add=True)
    waived_at = models.DateTimeField(_("waived at"), null=True, blank=True)
    waived_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    waive_reason = models.TextField(_("reason for waiving"), blank=True)

    class Meta:
        verbose_name = _("strike")
        verbose_name_plural = _("strikes")
        ordering = ("-occurred_at", "-pk")
        indexes = [models.Index(fields=["client", "occurred_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=StrikeKind.values), name="scheduling_strike_kind"
            ),
            # From exactly one booking.
            models.CheckConstraint(
                condition=Q(appointment__isnull=False, class_booking__isnull=True)
                | Q(appointment__isnull=True, class_booking__isnull=False),
                name="scheduling_strike_one_source",
            ),
            # Recording the same event twice (a retry, a status set twice) adds nothing.
            models.UniqueConstraint(
                fields=["appointment", "kind"],
                condition=Q(appointment__isnull=False),
                name="scheduling_strike_appointment_unique",
            ),
            models.UniqueConstraint(
                fields=["class_booking", "kind"],
                condition=Q(class_booking__isnull=False),
                name="scheduling_strike_booking_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.kind} {self.occurred_at:%Y-%m-%d}"
