"""Body measurements and progress photos of clients. Tables live in each gym's schema.

Measurements are stored in metric units (kg, cm) whatever the units they were entered in
(apps.progress.units converts); the database refuses values no human body has. Photo files
live in the gym's storage under random names and are only ever served through a view that
checks who asks (apps.progress.views.photo_file), never by a public media URL.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.fields import EncryptedTextField
from apps.core.models import TimeStampedModel
from apps.progress.units import Quantity

# Sane ranges, in stored units: (field, minimum, maximum). Forms, serializers and CHECK
# constraints all read this table.
WEIGHT_RANGE = (Decimal("20"), Decimal("400"))
BODY_FAT_RANGE = (Decimal("2"), Decimal("75"))
HEART_RATE_RANGE = (20, 250)
SYSTOLIC_RANGE = (60, 300)
DIASTOLIC_RANGE = (30, 200)
CIRCUMFERENCE_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "neck_cm": (Decimal("15"), Decimal("80")),
    "chest_cm": (Decimal("40"), Decimal("250")),
    "waist_cm": (Decimal("30"), Decimal("250")),
    "hips_cm": (Decimal("40"), Decimal("250")),
    "arm_cm": (Decimal("10"), Decimal("100")),
    "thigh_cm": (Decimal("20"), Decimal("150")),
    "calf_cm": (Decimal("15"), Decimal("100")),
}

# The values that convert with the person's units: stored field -> (public name, quantity).
CONVERTIBLE_FIELDS: dict[str, tuple[str, Quantity]] = {
    "weight_kg": ("weight", Quantity.MASS),
    **{name: (name.removesuffix("_cm"), Quantity.LENGTH) for name in CIRCUMFERENCE_RANGES},
}
# Values that are the same in every unit system.
PLAIN_FIELDS = (
    "body_fat_percent",
    "resting_heart_rate",
    "blood_pressure_systolic",
    "blood_pressure_diastolic",
)
VALUE_FIELDS = (*CONVERTIBLE_FIELDS, *PLAIN_FIELDS)


def _range_validators(bounds: tuple[object, object]) -> list:
    return [MinValueValidator(bounds[0]), MaxValueValidator(bounds[1])]  # type: ignore[arg-type]


def _in_range(field: str, bounds: tuple[object, object]) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(
        **{f"{field}__gte": bounds[0], f"{field}__lte": bounds[1]}
    )


def _circumference(label: str, field: str) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=_range_validators(CIRCUMFERENCE_RANGES[field]),
    )


class BodyMeasurement(TimeStampedModel):
    """One measuring session: whichever values were taken then (at least one)."""

    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="measurements",
    )
    measured_at = models.DateTimeField(_("measured at"), default=timezone.now)
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=_range_validators(WEIGHT_RANGE),
    )
    body_fat_percent = models.DecimalField(
        _("body fat (%)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=_range_validators(BODY_FAT_RANGE),
    )
    neck_cm = _circumference(_("neck (cm)"), "neck_cm")
    chest_cm = _circumference(_("chest (cm)"), "chest_cm")
    waist_cm = _circumference(_("waist (cm)"), "waist_cm")
    hips_cm = _circumference(_("hips (cm)"), "hips_cm")
    arm_cm = _circumference(_("arm (cm)"), "arm_cm")
    thigh_cm = _circumference(_("thigh (cm)"), "thigh_cm")
    calf_cm = _circumference(_("calf (cm)"), "calf_cm")
    resting_heart_rate = models.PositiveSmallIntegerField(
        _("resting heart rate (bpm)"),
        null=True,
        blank=True,
        validators=_range_validators(HEART_RATE_RANGE),
    )
    blood_pressure_systolic = models.PositiveSmallIntegerField(
        _("blood pressure, systolic (mmHg)"),
        null=True,
        blank=True,
        validators=_range_validators(SYSTOLIC_RANGE),
    )
    blood_pressure_diastolic = models.PositiveSmallIntegerField(
        _("blood pressure, diastolic (mmHg)"),
        null=True,
        blank=True,
        validators=_range_validators(DIASTOLIC_RANGE),
    )
    # Health data: encrypted at rest like the CRM's health notes.
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("body measurement")
        verbose_name_plural = _("body measurements")
        ordering = ("-measured_at", "-pk")
        indexes = [models.Index(fields=["client", "-measured_at"])]
        constraints = [
            models.CheckConstraint(
                condition=_in_range("weight_kg", WEIGHT_RANGE), name="progress_weight_sane"
            ),
            models.CheckConstraint(
                condition=_in_range("body_fat_percent", BODY_FAT_RANGE),
                name="progress_body_fat_sane",
            ),
            *[
                models.CheckConstraint(
                    condition=_in_range(field, bounds), name=f"progress_{field}_sane"
                )
                for field, bounds in CIRCUMFERENCE_RANGES.items()
            ],
            models.CheckConstraint(
                condition=_in_range("resting_heart_rate", HEART_RATE_RANGE),
                name="progress_heart_rate_sane",
            ),
            models.CheckConstraint(
                condition=_in_range("blood_pressure_systolic", SYSTOLIC_RANGE),
                name="progress_systolic_sane",
            ),
            models.CheckConstraint(
                condition=_in_range("blood_pressure_diastolic", DIASTOLIC_RANGE),
                name="progress_diastolic_sane",
            ),
            # Blood pressure is a pair, and the first number is the higher one.
            models.CheckConstraint(
                condition=Q(
                    blood_pressure_systolic__isnull=True, blood_pressure_diastolic__isnull=True
                )
                | Q(
                    blood_pressure_systolic__isnull=False,
                    blood_pressure_diastolic__isnull=False,
                    blood_pressure_systolic__gt=models.F("blood_pressure_diastolic"),
                ),
                name="progress_blood_pressure_pair",
            ),
            models.CheckConstraint(
                condition=Q(
                    *[Q(**{f"{field}__isnull": False}) for field in VALUE_FIELDS], _connector=Q.OR
                ),
                name="progress_measurement_has_a_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} @ {self.measured_at:%Y-%m-%d}"


class Pose(models.TextChoices):
    FRONT = "front", _("Front")
    SIDE = "side", _("Side")
    BACK = "back", _("Back")


class ProgressPhoto(models.Model):
    """A photo re-encoded on upload (no EXIF, upright) and its thumbnail, both in the gym's
    storage under names nobody can guess."""

    client = models.ForeignKey(
        "crm.Client", verbose_name=_("client"), on_delete=models.CASCADE, related_name="photos"
    )
    pose = models.CharField(_("pose"), max_length=10, choices=Pose.choices)
    taken_on = models.DateField(_("taken on"), default=timezone.localdate)
    # Names in default_storage (which puts each gym under its own prefix); never shown as URLs.
    file_name = models.CharField(max_length=255, editable=False)
    thumbnail_name = models.CharField(max_length=255, editable=False)
    content_type = models.CharField(max_length=40, default="image/jpeg", editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    size_bytes = models.PositiveIntegerField(editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("progress photo")
        verbose_name_plural = _("progress photos")
        ordering = ("-taken_on", "pose", "-pk")
        indexes = [models.Index(fields=["client", "-taken_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(pose__in=Pose.values), name="progress_photo_pose_known"
            ),
            models.UniqueConstraint(fields=["file_name"], name="progress_photo_file_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.pose} {self.taken_on}"
