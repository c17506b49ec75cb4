"""What trainers deliver: the exercise library and workout plans.

A plan is either a *template* (no client) that trainers build and copy, or a *client plan*,
a copy of a template assigned to one client from a start date. Assigning schedules the client's
workouts: one `ScheduledWorkout` per plan day, dated start date + 7 * (week - 1) + day offset.
Logged sets live in apps.workouts.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.core.constraints import field_error_for_constraint
from apps.core.models import TimeStampedModel
from apps.training.vocabulary import Category, Equipment, Mechanics, Muscle, Tracking

TEMPO = RegexValidator(
    r"^[0-9X]-[0-9X]-[0-9X]-[0-9X]$",
    _("Write tempo as four digits or X: eccentric-pause-concentric-pause, like 3-1-1-0."),
)


class Exercise(TimeStampedModel):
    """One exercise. Library rows (`is_library`) ship with FitnessCRM and are the same in every
    gym; a gym adds its own private exercises and variations of any exercise."""

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    name = models.CharField(_("name"), max_length=200)
    aliases = ArrayField(
        models.CharField(max_length=200), verbose_name=_("aliases"), default=list, blank=True
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    primary_muscles = ArrayField(
        models.CharField(max_length=20, choices=Muscle.choices),
        verbose_name=_("primary muscles"),
        default=list,
    )
    secondary_muscles = ArrayField(
        models.CharField(max_length=20, choices=Muscle.choices),
        verbose_name=_("secondary muscles"),
        default=list,
        blank=True,
    )
    equipment = ArrayField(
        models.CharField(max_length=30, choices=Equipment.choices),
        verbose_name=_("equipment"),
        default=list,
    )
    mechanics = models.CharField(
        _("mechanics"), max_length=12, choices=Mechanics.choices, blank=True
    )
    tracking = models.CharField(
        _("tracking"), max_length=20, choices=Tracking.choices, default=Tracking.WEIGHT_REPS
    )
    instructions = ArrayField(
        models.TextField(), verbose_name=_("instructions"), default=list, blank=True
    )
    cues = ArrayField(models.TextField(), verbose_name=_("coaching cues"), default=list, blank=True)
    licence = models.CharField(_("licence"), max_length=60, blank=True)
    is_library = models.BooleanField(_("from the shipped library"), default=False)
    variation_of = models.ForeignKey(
        "self",
        verbose_name=_("variation of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="variations",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Name and aliases, lower-cased, kept by save(): searched with LIKE '%term%', which the
    # trigram index answers (an expression index over the array is impossible, as
    # array_to_string is not immutable).
    search_text = models.TextField(editable=False, default="")

    class Meta:
        verbose_name = _("exercise")
        verbose_name_plural = _("exercises")
        ordering = ("name", "pk")
        constraints = [
            models.UniqueConstraint(Lower("name"), name="exercise_name_unique_ci"),
            models.CheckConstraint(
                condition=~Q(variation_of=models.F("id")), name="exercise_not_own_variation"
            ),
        ]
        indexes = [
            GinIndex(
                fields=["search_text"], opclasses=["gin_trgm_ops"], name="exercise_search_trgm"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.search_text = exercise_search_text(self.name, self.aliases)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"name", "aliases"} & set(update_fields):  # type: ignore[call-overload]
            kwargs["update_fields"] = {*update_fields, "search_text"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def primary_muscles_display(self) -> str:
        return ", ".join(str(Muscle(m).label) for m in self.primary_muscles if m in Muscle.values)

    @property
    def secondary_muscles_display(self) -> str:
        return ", ".join(str(Muscle(m).label) for m in self.secondary_muscles if m in Muscle.values)

    @property
    def equipment_display(self) -> str:
        return ", ".join(str(Equipment(e).label) for e in self.equipment if e in Equipment.values)


def exercise_search_text(name: str, aliases: list[str] | None) -> str:
    """What exercise search matches against: the name and every alias, lower-cased."""
    return " | ".join([name, *(aliases or [])]).lower()


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    ARCHIVED = "archived", _("Archived")


class WorkoutPlan(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    goal = models.CharField(_("goal"), max_length=200, blank=True)
    is_template = models.BooleanField(_("template"), default=True)
    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="workout_plans",
    )
    source = models.ForeignKey(
        "self",
        verbose_name=_("copied from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copies",
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("workout plan")
        verbose_name_plural = _("workout plans")
        ordering = ("name", "pk")
        constraints = [
            # A template belongs to no client; a client's plan has a client and a start date.
            models.CheckConstraint(
                condition=Q(is_template=True, client__isnull=True, start_date__isnull=True)
                | Q(is_template=False, client__isnull=False, start_date__isnull=False),
                name="workout_plan_template_or_assigned",
            ),
        ]
        indexes = [models.Index(fields=["client", "status"])]

    def __str__(self) -> str:
        return self.name


class PlanPhase(models.Model):
    """A block of weeks with one purpose (hypertrophy, strength, deload...)."""

    plan = models.ForeignKey(WorkoutPlan, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=120)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ("plan", "order")
        constraints = [
            models.UniqueConstraint(fields=["plan", "order"], name="plan_phase_order_unique")
        ]

    def __str__(self) -> str:
        return self.name


class PlanWeek(models.Model):
    """Week `number` of the plan (counted across phases, from 1)."""

    plan = models.ForeignKey(WorkoutPlan, on_delete=models.CASCADE, related_name="weeks")
    phase = models.ForeignKey(PlanPhase, on_delete=models.CASCADE, related_name="weeks")
    number = models.PositiveSmallIntegerField(_("week"), validators=[MinValueValidator(1)])
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("week")
        verbose_name_plural = _("weeks")
        ordering = ("plan", "number")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_week_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="plan_week_number_positive"),
        ]

    def __str__(self) -> str:
        return _("Week %(number)s") % {"number": self.number}


class PlanDay(models.Model):
    """A training day: `offset` days after the start of its week (0 to 6)."""

    week = models.ForeignKey(PlanWeek, on_delete=models.CASCADE, related_name="days")
    offset = models.PositiveSmallIntegerField(
        _("day of the week"), validators=[MaxValueValidator(6)]
    )
    name = models.CharField(_("name"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("training day")
        verbose_name_plural = _("training days")
        ordering = ("week", "offset")
        constraints = [
            models.UniqueConstraint(fields=["week", "offset"], name="plan_day_offset_unique"),
            models.CheckConstraint(
                condition=Q(offset__gte=0, offset__lte=6), name="plan_day_offset_in_week"
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(_("Day %(number)s") % {"number": self.offset + 1})


class ItemKind(models.TextChoices):
    STRENGTH = "strength", _("Sets and reps")
    CARDIO = "cardio", _("Cardio")


class LoadUnit(models.TextChoices):
    KG = "kg", _("kg")
    LB = "lb", _("lb")
    PERCENT_1RM = "pct_1rm", _("% of 1RM")
    RPE = "rpe", _("RPE")
    RIR = "rir", _("RIR")
    BODYWEIGHT = "bodyweight", _("Bodyweight")


class PlanItem(models.Model):
    """One exercise on a training day. Items sharing a `superset` letter are done back to back.
    Strength items prescribe sets, reps (or a range) and a load; cardio items a time, distance,
    pace or heart-rate zone."""

    day = models.ForeignKey(PlanDay, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField(_("order"))
    exercise = models.ForeignKey(
        Exercise, verbose_name=_("exercise"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=ItemKind.choices, default=ItemKind.STRENGTH
    )
    superset = models.CharField(_("superset"), max_length=2, blank=True)
    sets = models.PositiveSmallIntegerField(_("sets"), null=True, blank=True)
    reps_min = models.PositiveSmallIntegerField(_("reps (from)"), null=True, blank=True)
    reps_max = models.PositiveSmallIntegerField(_("reps (to)"), null=True, blank=True)
    load_value = models.DecimalField(
        _("load"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    load_unit = models.CharField(
        _("load unit"), max_length=12, choices=LoadUnit.choices, blank=True
    )
    rest_seconds = models.PositiveIntegerField(_("rest (s)"), null=True, blank=True)
    tempo = models.CharField(_("tempo"), max_length=7, blank=True, validators=[TEMPO])
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("distance (m)"), null=True, blank=True)
    pace_seconds_per_km = models.PositiveIntegerField(_("pace (s/km)"), null=True, blank=True)
    heart_rate_zone = models.PositiveSmallIntegerField(
        _("heart-rate zone"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        ordering = ("day", "order")
        constraints = [
            models.UniqueConstraint(fields=["day", "order"], name="plan_item_order_unique"),
            models.CheckConstraint(
                condition=Q(reps_min__isnull=True)
                | Q(reps_max__isnull=True)
                | Q(reps_min__lte=models.F("reps_max")),
                name="plan_item_reps_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(heart_rate_zone__isnull=True)
                | Q(heart_rate_zone__gte=1, heart_rate_zone__lte=5),
                name="plan_item_hr_zone_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(kind="cardio") | Q(sets__gte=1),
                name="plan_item_strength_has_sets",
            ),
            models.CheckConstraint(
                condition=Q(load_value__isnull=True) | ~Q(load_unit=""),
                name="plan_item_load_has_unit",
            ),
        ]

    def __str__(self) -> str:
        return str(self.exercise_id)


class ScheduledWorkoutStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    COMPLETED = "completed", _("Completed")
    SKIPPED = "skipped", _("Skipped")


class ScheduledWorkout(TimeStampedModel):
    """A plan day on the client's calendar. Missed = still scheduled after its date."""

    client = models.ForeignKey(
        "crm.Client", on_delete=models.CASCADE, related_name="scheduled_workouts"
    )
    plan = models.ForeignKey(WorkoutPlan, on_delete=models.CASCADE, related_name="scheduled")
    day = models.ForeignKey(PlanDay, on_delete=models.CASCADE, related_name="scheduled")
    date = models.DateField(_("date"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ScheduledWorkoutStatus.choices,
        default=ScheduledWorkoutStatus.SCHEDULED,
    )

    class Meta:
        verbose_name = _("scheduled workout")
        verbose_name_plural = _("scheduled workouts")
        ordering = ("date", "pk")
        constraints = [
            models.UniqueConstraint(fields=["plan", "day"], name="scheduled_workout_once_per_day")
        ]
        indexes = [models.Index(fields=["client", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.day}"


field_error_for_constraint(
    "exercise_name_unique_ci",
    field="name",
    message=_("An exercise with this name already exists."),
)
