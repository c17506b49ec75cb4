"""Reads with rules. Measurements and photos are health data: owners and managers see every
client's, trainers those of the clients currently assigned to them, a client their own; front
desk sees none. Which clients a viewer may see at all comes from apps.crm.selectors.client_list,
so the two apps can never disagree about a trainer's clients.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.accounts.roles import HEALTH_DATA_ROLES, has_role
from apps.crm.models import Client
from apps.crm.selectors import client_list
from apps.progress.models import (
    CONVERTIBLE_FIELDS,
    BodyMeasurement,
    ProgressPhoto,
)
from apps.progress.units import Quantity, to_display, unit_name


def progress_client_list(*, viewer: User) -> QuerySet[Client]:
    """The clients whose measurements and photos `viewer` may see (and record)."""
    if not has_role(viewer, *HEALTH_DATA_ROLES, Role.CLIENT):
        return Client.objects.none()
    return client_list(viewer=viewer)


def progress_client_get(*, viewer: User, pk: int) -> Client:
    """One client `viewer` may follow, or Client.DoesNotExist (a 404: never reveal it exists)."""
    return progress_client_list(viewer=viewer).get(pk=pk)


def _visible_client_ids(viewer: User) -> QuerySet[Client]:
    # The rule as a subquery: no prefetching, one SQL statement with the caller's query.
    return progress_client_list(viewer=viewer).prefetch_related(None).values("pk")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def measurement_list(
    *,
    viewer: User,
    client: Client | None = None,
    measured_from: date | None = None,
    measured_to: date | None = None,
) -> QuerySet[BodyMeasurement]:
    """Measurements `viewer` may see, newest first; `measured_from`/`measured_to` are whole days
    (inclusive) in the gym's time zone."""
    measurements = BodyMeasurement.objects.filter(client__in=_visible_client_ids(viewer))
    if client is not None:
        measurements = measurements.filter(client=client)
    if measured_from is not None:
        measurements = measurements.filter(measured_at__gte=_day_start(measured_from))
    if measured_to is not None:
        measurements = measurements.filter(
            measured_at__lt=_day_start(measured_to + timedelta(days=1))
        )
    return measurements.select_related("recorded_by").order_by("-measured_at", "-pk")


def measurement_get(*, viewer: User, pk: int) -> BodyMeasurement:
    return measurement_list(viewer=viewer).select_related("client").get(pk=pk)


def photo_list(
    *, viewer: User, client: Client | None = None, pose: str = ""
) -> QuerySet[ProgressPhoto]:
    photos = ProgressPhoto.objects.filter(client__in=_visible_client_ids(viewer))
    if client is not None:
        photos = photos.filter(client=client)
    if pose:
        photos = photos.filter(pose=pose)
    return photos.select_related("uploaded_by")


def photo_get(*, viewer: User, pk: int) -> ProgressPhoto:
    """One photo `viewer` may see, or ProgressPhoto.DoesNotExist (a 404 whatever the reason)."""
    return photo_list(viewer=viewer).select_related("client").get(pk=pk)


def can_change_measurement(*, viewer: User, measurement: BodyMeasurement) -> bool:
    """Staff who may see it may change it; a client only what they recorded themselves."""
    if has_role(viewer, Role.CLIENT):
        return measurement.recorded_by_id == viewer.pk
    return has_role(viewer, *HEALTH_DATA_ROLES)


# --- Charts ---------------------------------------------------------------------------------

CHART_SERIES: tuple[tuple[str, str], ...] = (
    # (chart, stored field): charts group values that share an axis.
    ("weight", "weight_kg"),
    ("body_fat", "body_fat_percent"),
    ("circumferences", "neck_cm"),
    ("circumferences", "chest_cm"),
    ("circumferences", "waist_cm"),
    ("circumferences", "hips_cm"),
    ("circumferences", "arm_cm"),
    ("circumferences", "thigh_cm"),
    ("circumferences", "calf_cm"),
    ("heart", "resting_heart_rate"),
    ("heart", "blood_pressure_systolic"),
    ("heart", "blood_pressure_diastolic"),
)


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


def chart_data(*, measurements: list[BodyMeasurement], unit_system: str) -> dict[str, Any]:
    """What static/progress/charts.js draws (through json_script): oldest first, values in
    `unit_system`, gaps as null. Labels are the measurements' local dates."""
    rows = sorted(measurements, key=lambda m: (m.measured_at, m.pk))
    labels = [timezone.localtime(m.measured_at).date().isoformat() for m in rows]
    charts: dict[str, dict[str, Any]] = {}
    for chart, field in CHART_SERIES:
        if field in CONVERTIBLE_FIELDS:
            key, quantity = CONVERTIBLE_FIELDS[field]
            unit = unit_name(quantity, unit_system)
            values = [_number(to_display(getattr(m, field), quantity, unit_system)) for m in rows]
        else:
            key = field
            unit = (
                "%"
                if field == "body_fat_percent"
                else ("bpm" if field == "resting_heart_rate" else "mmHg")
            )
            values = [_number(getattr(m, field)) for m in rows]
        if all(value is None for value in values):
            continue
        label = str(BodyMeasurement._meta.get_field(field).verbose_name)
        charts.setdefault(chart, {"unit": unit, "series": []})["series"].append(
            {"key": key, "label": label.split(" (")[0].capitalize(), "unit": unit, "values": values}
        )
    return {"labels": labels, "charts": charts, "mass_unit": unit_name(Quantity.MASS, unit_system)}


# --- Data export ----------------------------------------------------------------------------


def photo_export_files(*, user: User) -> Iterator[tuple[str, bytes]]:
    """The photo files of `user` (as a client) for their data export: (archive name, bytes),
    one per photo, named by date, pose and id. apps.privacy exports database rows only; this
    is what its export would add for the files themselves."""
    photos = ProgressPhoto.objects.filter(client__user=user).order_by("taken_on", "pk")
    for photo in photos:
        try:
            with default_storage.open(photo.file_name, "rb") as handle:
                content = handle.read()
        except FileNotFoundError:
            continue
        yield f"progress_photos/{photo.taken_on:%Y-%m-%d}_{photo.pose}_{photo.pk}.jpg", content
