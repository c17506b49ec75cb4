"""Clients' wearable and app data, one model for every provider. Tables live in each gym's schema.

Every data row carries its provider, the device or app that recorded it, the provider's own id
for it and the time zone of its day, and is unique on (client, provider, provider_id): a
re-delivered or re-fetched item updates its row in place. Rows of different providers for the
same day and kind coexist; readers pick one source per day and kind (apps.wearables.selectors,
"Precedence"), so totals are never counted twice. Body weight and body fat are not here: they go
into progress.BodyMeasurement (apps.wearables.services.body_measurement_from_provider).

Footprint: each data table costs 4 relations per gym (table, primary key, its sequence, the
unique index, which also serves every lookup by client). Text columns are bounded CharFields so
PostgreSQL gives the data tables no TOAST table; only Connection (its encrypted tokens) has one.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.fields import EncryptedTextField
from apps.core.models import TimeStampedModel


class Provider(models.TextChoices):
    STRAVA = "strava", "Strava"
    GARMIN = "garmin", "Garmin"
    GOOGLE_HEALTH = "google_health", _("Fitbit (Google Health)")
    APPLE_HEALTH = "apple_health", _("Apple Health")
    MYFITNESSPAL = "myfitnesspal", "MyFitnessPal"


class DataKind(models.TextChoices):
    ACTIVITY = "activity", _("Daily activity")
    HEART_RATE = "heart_rate", _("Heart rate")
    SLEEP = "sleep", _("Sleep")
    WORKOUTS = "workouts", _("Workouts")
    NUTRITION = "nutrition", _("Nutrition")
    BODY = "body", _("Body weight and fat")


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", _("Connected")
    ERROR = "error", _("Sync failing")
    DISCONNECTED = "disconnected", _("Disconnected")


class Connection(TimeStampedModel):
    """A client's account at one provider: what they chose to share, the OAuth tokens
    (encrypted at rest) and the state of its sync."""

    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="wearable_connections",
        # The unique (client, provider) index serves lookups by client.
        db_index=False,
    )
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    provider_user_id = models.CharField(_("provider user id"), max_length=64, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ConnectionStatus.choices,
        default=ConnectionStatus.ACTIVE,
    )
    # The kinds of data the client chose to share (DataKind values, comma-separated) and the
    # OAuth scopes the provider granted for them.
    kinds = models.CharField(_("shared data"), max_length=120, blank=True)
    scopes = models.CharField(_("granted scopes"), max_length=500, blank=True)
    access_token = EncryptedTextField(_("access token"), blank=True, default="")
    refresh_token = EncryptedTextField(_("refresh token"), blank=True, default="")
    expires_at = models.DateTimeField(_("access token expires"), null=True, blank=True)
    # Lower wins when two connections report the same day and kind (selectors: "Precedence");
    # null = the provider's default rank for each kind.
    precedence = models.PositiveSmallIntegerField(_("precedence"), null=True, blank=True)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    class Meta:
        verbose_name = _("wearable connection")
        verbose_name_plural = _("wearable connections")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "provider"], name="wearables_connection_one_per_provider"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} ({self.get_status_display()})"

    @property
    def kind_list(self) -> list[str]:
        return [kind for kind in self.kinds.split(",") if kind]

    @property
    def is_active(self) -> bool:
        return self.status != ConnectionStatus.DISCONNECTED


class ProviderRecord(TimeStampedModel):
    """What every row from a provider carries."""

    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    # The provider's own id for the item (a day's date for daily summaries without one).
    provider_id = models.CharField(_("provider id"), max_length=64)
    device = models.CharField(_("device or app"), max_length=64, blank=True)
    # The IANA zone of the day the row belongs to (where the client was, not the gym).
    time_zone = models.CharField(_("time zone"), max_length=48, blank=True)

    class Meta:
        abstract = True


def _unique(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["client", "provider", "provider_id"], name=f"wearables_{name}_unique"
    )


def _non_negative(name: str, *fields: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}),
            name=f"wearables_{name}_{field}_not_negative",
        )
        for field in fields
    ]


class DailyActivity(ProviderRecord):
    date = models.DateField(_("day"))
    steps = models.PositiveIntegerField(_("steps"), null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("distance (m)"), null=True, blank=True)
    active_minutes = models.PositiveSmallIntegerField(_("active minutes"), null=True, blank=True)
    calories_kcal = models.PositiveIntegerField(_("calories (kcal)"), null=True, blank=True)

    class Meta:
        verbose_name = _("daily activity")
        verbose_name_plural = _("daily activity")
        constraints = [
            _unique("dailyactivity"),
            models.CheckConstraint(
                condition=Q(steps__isnull=True) | Q(steps__lte=200_000),
                name="wearables_dailyactivity_steps_sane",
            ),
            models.CheckConstraint(
                condition=Q(active_minutes__isnull=True) | Q(active_minutes__lte=1440),
                name="wearables_dailyactivity_minutes_sane",
            ),
        ]


class HeartRateDay(ProviderRecord):
    date = models.DateField(_("day"))
    resting_bpm = models.PositiveSmallIntegerField(_("resting heart rate"), null=True, blank=True)
    # Minutes in each of the provider's five heart rate zones, lowest first.
    zone_1_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    zone_2_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    zone_3_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    zone_4_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    zone_5_minutes = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("heart rate day")
        verbose_name_plural = _("heart rate days")
        constraints = [
            _unique("heartrateday"),
            models.CheckConstraint(
                condition=Q(resting_bpm__isnull=True) | Q(resting_bpm__range=(20, 250)),
                name="wearables_heartrateday_resting_sane",
            ),
        ]


class SleepSession(ProviderRecord):
    # The day the sleep ended on (the morning it belongs to), in `time_zone`.
    date = models.DateField(_("day"))
    start_at = models.DateTimeField(_("fell asleep"))
    end_at = models.DateTimeField(_("woke up"))
    asleep_minutes = models.PositiveSmallIntegerField(_("minutes asleep"), null=True, blank=True)
    # Stages, where the provider gives them.
    deep_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    light_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    rem_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    awake_minutes = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("sleep session")
        verbose_name_plural = _("sleep sessions")
        constraints = [
            _unique("sleepsession"),
            models.CheckConstraint(
                condition=Q(end_at__gt=models.F("start_at")), name="wearables_sleep_ends_after"
            ),
        ]


class ExternalWorkout(ProviderRecord):
    """A workout recorded outside the gym's plans (a run on Strava, a ride on a Garmin)."""

    # The provider's sport as given (Strava's sport_type: Run, Ride, WeightTraining...).
    sport = models.CharField(_("sport"), max_length=32)
    name = models.CharField(_("name"), max_length=120, blank=True)
    start_at = models.DateTimeField(_("start"))
    # The local day of `start_at` in `time_zone`: what daily views and adherence count by.
    date = models.DateField(_("day"))
    duration_seconds = models.PositiveIntegerField(_("duration (s)"))
    moving_seconds = models.PositiveIntegerField(_("moving time (s)"), null=True, blank=True)
    distance_m = models.DecimalField(
        _("distance (m)"), max_digits=9, decimal_places=1, null=True, blank=True
    )
    elevation_gain_m = models.DecimalField(
        _("elevation gain (m)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    average_heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    max_heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    calories_kcal = models.PositiveIntegerField(_("calories (kcal)"), null=True, blank=True)

    class Meta:
        verbose_name = _("outside workout")
        verbose_name_plural = _("outside workouts")
        constraints = [
            _unique("externalworkout"),
            *_non_negative("externalworkout", "distance_m", "elevation_gain_m"),
            models.CheckConstraint(
                condition=Q(duration_seconds__lte=7 * 24 * 3600),
                name="wearables_externalworkout_duration_sane",
            ),
            models.CheckConstraint(
                condition=Q(max_heart_rate__isnull=True) | Q(max_heart_rate__range=(20, 250)),
                name="wearables_externalworkout_max_hr_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sport} {self.date}"

    @property
    def duration_minutes(self) -> int:
        return round(self.duration_seconds / 60)

    @property
    def distance_km(self) -> Decimal | None:
        return (
            None if self.distance_m is None else (self.distance_m / 1000).quantize(Decimal("0.01"))
        )


class NutritionDay(ProviderRecord):
    date = models.DateField(_("day"))
    calories_kcal = models.PositiveIntegerField(_("calories (kcal)"), null=True, blank=True)
    protein_g = models.DecimalField(
        _("protein (g)"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    carbohydrate_g = models.DecimalField(
        _("carbohydrate (g)"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    fat_g = models.DecimalField(_("fat (g)"), max_digits=6, decimal_places=1, null=True, blank=True)
    water_ml = models.PositiveIntegerField(_("water (ml)"), null=True, blank=True)
    # Meals where the source gives them: [{"name", "calories_kcal", "protein_g",
    # "carbohydrate_g", "fat_g"}], in the order eaten.
    meals = models.JSONField(_("meals"), default=list, blank=True)

    class Meta:
        verbose_name = _("nutrition day")
        verbose_name_plural = _("nutrition days")
        constraints = [
            _unique("nutritionday"),
            *_non_negative("nutritionday", "protein_g", "carbohydrate_g", "fat_g"),
        ]


class NutritionTarget(models.Model):
    """The daily intake a trainer sets for a client; intake is compared with it."""

    client = models.OneToOneField(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="nutrition_target",
    )
    calories_kcal = models.PositiveIntegerField(_("calories (kcal)"), null=True, blank=True)
    protein_g = models.PositiveSmallIntegerField(_("protein (g)"), null=True, blank=True)
    carbohydrate_g = models.PositiveSmallIntegerField(_("carbohydrate (g)"), null=True, blank=True)
    fat_g = models.PositiveSmallIntegerField(_("fat (g)"), null=True, blank=True)
    set_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("set by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("nutrition target")
        verbose_name_plural = _("nutrition targets")

    def __str__(self) -> str:
        return f"{self.calories_kcal or '-'} kcal"


class HealthExportStatus(models.TextChoices):
    UPLOADING = "uploading", _("Uploading")
    QUEUED = "queued", _("Waiting to be read")
    PARSING = "parsing", _("Reading")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class HealthExport(TimeStampedModel):
    """An Apple Health `export.zip` a client uploads in resumable chunks. The chunks are stored
    as they arrive (in the default storage, under `storage_prefix`) and read as one stream."""

    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=HealthExportStatus.choices,
        default=HealthExportStatus.UPLOADING,
    )
    file_name = models.CharField(_("file name"), max_length=120, blank=True)
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    received_bytes = models.BigIntegerField(_("received (bytes)"), default=0)
    parsed_bytes = models.BigIntegerField(_("read (bytes)"), default=0)
    storage_prefix = models.CharField(max_length=200, blank=True)
    # The whole file's SHA-256, once it is complete: the same export uploaded again is known.
    sha256 = models.CharField(max_length=64, blank=True)
    records_stored = models.PositiveIntegerField(_("records stored"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("Apple Health export")
        verbose_name_plural = _("Apple Health exports")

    def __str__(self) -> str:
        return self.file_name or str(self.pk)


class HealthSample(models.Model):
    """A HealthKit sample a companion app pushed, kept so a re-sent or deleted sample (by its
    UUID) changes the day's totals exactly once; days are re-totalled into the data tables."""

    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    uuid = models.UUIDField(_("sample UUID"))
    # HealthKit's type identifier, e.g. HKQuantityTypeIdentifierStepCount.
    sample_type = models.CharField(_("type"), max_length=64)
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4, null=True)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    source = models.CharField(_("device or app"), max_length=64, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=48, blank=True)

    class Meta:
        verbose_name = _("HealthKit sample")
        verbose_name_plural = _("HealthKit samples")
        constraints = [
            models.UniqueConstraint(fields=["client", "uuid"], name="wearables_sample_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sample_type} {self.start_at:%Y-%m-%d}"


# What each data kind is stored in.
KIND_MODELS: dict[str, type[ProviderRecord]] = {
    DataKind.ACTIVITY: DailyActivity,
    DataKind.HEART_RATE: HeartRateDay,
    DataKind.SLEEP: SleepSession,
    DataKind.WORKOUTS: ExternalWorkout,
    DataKind.NUTRITION: NutritionDay,
}
