"""What clients did: workout logs with their sets and cardio, and each client's weekly target.

A `WorkoutLog` is one training session, either of a `ScheduledWorkout` (apps.training) or free.
Loads are stored in kilograms whatever unit the person typed. Planned exercises the client did
not log are recorded as skipped rows when the workout is completed, so "what was skipped" is a
query, not a guess.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.constraints import field_error_for_constraint
from apps.core.models import TimeStampedModel

# RPE is logged in half points from 1 to 10 (6, 6.5, ... 10).
RPE_VALUES = [Decimal(half) / 2 for half in range(2, 21)]
MAX_HEART_RATE = 250
MIN_HEART_RATE = 30
DEFAULT_WEEKLY_TARGET = 3
MAX_WEEKLY_TARGET = 14


class WorkoutLog(TimeStampedModel):
    """One training session of a client. Completed once `completed_at` is set."""

    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="workout_logs",
    )
    scheduled_workout = models.ForeignKey(
        "training.ScheduledWorkout",
        verbose_name=_("scheduled workout"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="logs",
    )
    performed_on = models.DateField(_("performed on"))
    started_at = models.DateTimeField(_("started at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    perceived_effort = models.PositiveSmallIntegerField(
        _("perceived effort (1-10)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    # Sent by the mobile app so a retried "start" does not open a second session.
    client_uuid = models.UUIDField(_("client-generated id"), null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("workout log")
        verbose_name_plural = _("workout logs")
        ordering = ("-performed_on", "-started_at", "-pk")
        constraints = [
            # One log per scheduled workout: starting it twice reopens the same log.
            models.UniqueConstraint(
                fields=["scheduled_workout"],
                condition=Q(scheduled_workout__isnull=False),
                name="workout_log_once_per_scheduled",
            ),
            models.CheckConstraint(
                condition=Q(perceived_effort__isnull=True)
                | Q(perceived_effort__gte=1, perceived_effort__lte=10),
                name="workout_log_effort_1_to_10",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True)
                | Q(completed_at__gte=models.F("started_at")),
                name="workout_log_completed_after_start",
            ),
        ]
        indexes = [models.Index(fields=["client", "performed_on"])]

    def __str__(self) -> str:
        return f"{self.performed_on} #{self.pk}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None


class SetLog(TimeStampedModel):
    """One set of a strength exercise. A skipped exercise is one row with `skipped` set."""

    log = models.ForeignKey(WorkoutLog, on_delete=models.CASCADE, related_name="sets")
    exercise = models.ForeignKey(
        "training.Exercise",
        verbose_name=_("exercise"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    plan_item = models.ForeignKey(
        "training.PlanItem",
        verbose_name=_("plan item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    set_number = models.PositiveSmallIntegerField(_("set"), validators=[MinValueValidator(1)])
    reps = models.PositiveSmallIntegerField(
        _("reps"), null=True, blank=True, validators=[MaxValueValidator(1000)]
    )
    load_kg = models.DecimalField(
        _("load (kg)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("2000"))],
    )
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    rpe = models.DecimalField(
        _("RPE"),
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        choices=[(value, format(value, "f")) for value in RPE_VALUES],
    )
    rir = models.PositiveSmallIntegerField(
        _("reps in reserve"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    skipped = models.BooleanField(_("skipped"), default=False)
    client_uuid = models.UUIDField(_("client-generated id"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("set")
        verbose_name_plural = _("sets")
        ordering = ("log", "plan_item", "exercise", "set_number", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["log", "plan_item", "exercise", "set_number"],
                nulls_distinct=False,
                name="set_log_number_unique",
            ),
            models.CheckConstraint(condition=Q(set_number__gte=1), name="set_log_number_positive"),
            models.CheckConstraint(
                condition=Q(reps__isnull=True) | Q(reps__lte=1000), name="set_log_reps_range"
            ),
            models.CheckConstraint(
                condition=Q(load_kg__isnull=True) | Q(load_kg__gte=0, load_kg__lte=2000),
                name="set_log_load_range",
            ),
            models.CheckConstraint(
                condition=Q(rpe__isnull=True) | Q(rpe__in=RPE_VALUES),
                name="set_log_rpe_half_points",
            ),
            models.CheckConstraint(
                condition=Q(rir__isnull=True) | Q(rir__lte=10), name="set_log_rir_range"
            ),
            # A set that was done says what was done.
            models.CheckConstraint(
                condition=Q(skipped=True)
                | Q(reps__isnull=False)
                | Q(duration_seconds__isnull=False),
                name="set_log_done_or_skipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise_id} #{self.set_number}"


class CardioLog(TimeStampedModel):
    """One cardio bout (a run, a row): time, distance and average heart rate."""

    log = models.ForeignKey(WorkoutLog, on_delete=models.CASCADE, related_name="cardio")
    exercise = models.ForeignKey(
        "training.Exercise",
        verbose_name=_("exercise"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    plan_item = models.ForeignKey(
        "training.PlanItem",
        verbose_name=_("plan item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    duration_seconds = models.PositiveIntegerField(
        _("duration (s)"), null=True, blank=True, validators=[MaxValueValidator(24 * 3600)]
    )
    distance_m = models.PositiveIntegerField(
        _("distance (m)"), null=True, blank=True, validators=[MaxValueValidator(1_000_000)]
    )
    average_heart_rate = models.PositiveSmallIntegerField(
        _("average heart rate (bpm)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_HEART_RATE), MaxValueValidator(MAX_HEART_RATE)],
    )
    skipped = models.BooleanField(_("skipped"), default=False)
    client_uuid = models.UUIDField(_("client-generated id"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("cardio")
        verbose_name_plural = _("cardio")
        ordering = ("log", "pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_seconds__isnull=True) | Q(duration_seconds__lte=24 * 3600),
                name="cardio_log_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(distance_m__isnull=True) | Q(distance_m__lte=1_000_000),
                name="cardio_log_distance_range",
            ),
            models.CheckConstraint(
                condition=Q(average_heart_rate__isnull=True)
                | Q(
                    average_heart_rate__gte=MIN_HEART_RATE,
                    average_heart_rate__lte=MAX_HEART_RATE,
                ),
                name="cardio_log_heart_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(skipped=True)
                | Q(duration_seconds__isnull=False)
                | Q(distance_m__isnull=False),
                name="cardio_log_done_or_skipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise_id} cardio"


class WeeklyTarget(models.Model):
    """How many workouts a week the client aims for (streaks count weeks that meet it).
    A client without a row has DEFAULT_WEEKLY_TARGET."""

    client = models.OneToOneField(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="weekly_target",
    )
    workouts_per_week = models.PositiveSmallIntegerField(
        _("workouts per week"),
        default=DEFAULT_WEEKLY_TARGET,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WEEKLY_TARGET)],
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("weekly target")
        verbose_name_plural = _("weekly targets")
        constraints = [
            models.CheckConstraint(
                condition=Q(workouts_per_week__gte=1, workouts_per_week__lte=MAX_WEEKLY_TARGET),
                name="weekly_target_range",
            )
        ]

    def __str__(self) -> str:
        return str(self.workouts_per_week)


field_error_for_constraint(
    "set_log_number_unique",
    field="set_number",
    message=_("This set is already logged: change it instead."),
)
