"""Writes for Apple Health: the client's export.zip arriving in chunks and read on Celery, and the
HealthKit samples a companion app pushes; both end in the day tables (provider APPLE_HEALTH,
provider_id = the day, so the same data delivered again updates rows in place).

Upload: each chunk is its own object in the default storage, named by its byte offset under the
export's `storage_prefix` (S3 has no append). The chunk layout is fixed (APPLE_HEALTH_CHUNK_BYTES
each, the last one shorter), so what is stored says which bytes are missing and an interrupted
upload resumes. The chunk that completes the file queues the import.

Import: the parts are hashed first (the same file already imported for this client is done at
once, nothing re-read), then read as one stream (parser.py). Nothing is written while reading:
a bad zip, bad XML or a bad date anywhere fails the import with a message and leaves every row
stored before untouched. Then the day rows go in, a month of days per transaction, so the
database never holds one long transaction for a decade of data.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.wearables.models import (
    Connection,
    ConnectionStatus,
    DailyActivity,
    DataKind,
    ExternalWorkout,
    HealthExport,
    HealthExportStatus,
    HealthSample,
    HeartRateDay,
    NutritionDay,
    Provider,
    SleepSession,
)
from apps.wearables.providers.apple_health import parser
from apps.wearables.services import (
    InvalidRecordError,
    _on_commit_in_this_gym,
    body_measurement_from_provider,
    sync_succeeded,
)

logger = logging.getLogger(__name__)

PROVIDER = Provider.APPLE_HEALTH
ZIP_MAGIC = b"PK\x03\x04"
DAYS_PER_TRANSACTION = 31
MAX_BATCH = 1000
PART_NAME = re.compile(r"^\d{13}$")
# A sample may end a little after our clock (the phone's clock runs ahead).
CLOCK_SKEW = timedelta(minutes=10)

# Where each type's day value goes: (model, field, maximum or None).
TYPE_FIELDS: dict[str, tuple[type, str, int | None]] = {
    parser.STEPS: (DailyActivity, "steps", 200_000),
    parser.DISTANCE: (DailyActivity, "distance_m", 2_000_000),
    parser.ACTIVE_ENERGY: (DailyActivity, "calories_kcal", 50_000),
    parser.EXERCISE: (DailyActivity, "active_minutes", 1440),
    parser.RESTING_HR: (HeartRateDay, "resting_bpm", 250),
    parser.DIETARY_ENERGY: (NutritionDay, "calories_kcal", 100_000),
    parser.DIETARY_PROTEIN: (NutritionDay, "protein_g", 99_999),
    parser.DIETARY_CARBS: (NutritionDay, "carbohydrate_g", 99_999),
    parser.DIETARY_FAT: (NutritionDay, "fat_g", 99_999),
    parser.DIETARY_WATER: (NutritionDay, "water_ml", 100_000),
}
DECIMAL_FIELDS = {"protein_g", "carbohydrate_g", "fat_g"}
MODEL_FIELDS: dict[type, list[str]] = {}
for _model, _field, _maximum in TYPE_FIELDS.values():
    MODEL_FIELDS.setdefault(_model, []).append(_field)
SLEEP_FIELDS = [
    "start_at",
    "end_at",
    "asleep_minutes",
    "deep_minutes",
    "light_minutes",
    "rem_minutes",
    "awake_minutes",
]


class UploadRejectedError(ValueError):
    """A bad upload request; `field` names what is wrong (shown next to it, answered as a 400)."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


# --- Upload -----------------------------------------------------------------------------------


def _part_name(export: HealthExport, offset: int) -> str:
    return f"{export.storage_prefix}/{offset:013d}"


def health_export_parts(*, export: HealthExport) -> list[tuple[int, str]]:
    """The stored parts as (offset, storage name), in order."""
    try:
        _dirs, files = default_storage.listdir(export.storage_prefix)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(
        (int(name), f"{export.storage_prefix}/{name}") for name in files if PART_NAME.match(name)
    )


def health_export_missing(*, export: HealthExport) -> list[int]:
    """Offsets of the chunks still to send."""
    chunk = settings.APPLE_HEALTH_CHUNK_BYTES
    have = {offset for offset, _name in health_export_parts(export=export)}
    return [offset for offset in range(0, export.size_bytes, chunk) if offset not in have]


def health_export_start(*, client: Any, file_name: str, size_bytes: Any) -> HealthExport:
    """A new upload, or the client's unfinished one of the same file (name and size): picking
    the file again after an interruption resumes it."""
    file_name = str(file_name or "").strip().rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:120]
    if not file_name.lower().endswith(".zip"):
        raise UploadRejectedError(
            "file_name", _("Choose the export.zip file the Health app exported.")
        )
    try:
        size = int(size_bytes)
    except (TypeError, ValueError) as error:
        raise UploadRejectedError("size_bytes", _("The file size is missing.")) from error
    if size <= len(ZIP_MAGIC):
        raise UploadRejectedError("size_bytes", _("This file is empty."))
    if size > settings.APPLE_HEALTH_MAX_EXPORT_BYTES:
        raise UploadRejectedError(
            "size_bytes",
            _("This file is larger than %(limit)s GB, the most an export may be.")
            % {"limit": round(settings.APPLE_HEALTH_MAX_EXPORT_BYTES / 1024**3, 1)},
            status=413,
        )
    with transaction.atomic():
        unfinished = (
            HealthExport.objects.select_for_update()
            .filter(
                client=client,
                file_name=file_name,
                size_bytes=size,
                status=HealthExportStatus.UPLOADING,
            )
            .order_by("-pk")
            .first()
        )
        if unfinished is not None:
            return unfinished
        export = HealthExport.objects.create(client=client, file_name=file_name, size_bytes=size)
        export.storage_prefix = f"apple-health/{client.pk}/{export.pk}-{secrets.token_hex(8)}"
        export.save(update_fields=["storage_prefix", "updated_at"])
    return export


def health_export_chunk_store(
    *, export: HealthExport, start: int, total: int, body: bytes | IO[bytes]
) -> HealthExport:
    """Store one chunk (`body`, starting at byte `start` of a file of `total` bytes); a chunk
    sent twice is stored once. The chunk that completes the file queues the import."""
    chunk = settings.APPLE_HEALTH_CHUNK_BYTES
    if total != export.size_bytes:
        raise UploadRejectedError(
            "Content-Range", _("The total size does not match the upload's size.")
        )
    if start < 0 or start >= export.size_bytes or start % chunk:
        raise UploadRejectedError(
            "Content-Range",
            _("A chunk must start at a multiple of %(size)s bytes inside the file.")
            % {"size": chunk},
        )
    expected = min(chunk, export.size_bytes - start)
    content: File = ContentFile(body) if isinstance(body, bytes) else File(body)
    if content.size != expected:
        raise UploadRejectedError(
            "Content-Range",
            _("This chunk must be %(expected)s bytes long, not %(actual)s.")
            % {"expected": expected, "actual": content.size},
        )
    if start == 0:
        content.seek(0)
        if content.read(len(ZIP_MAGIC)) != ZIP_MAGIC:
            raise UploadRejectedError("file", _("This file is not a zip archive."))
        content.seek(0)
    # The row lock serialises chunks of one upload: two copies of the same chunk in flight would
    # both count as new.
    with transaction.atomic():
        export = HealthExport.objects.select_for_update().get(pk=export.pk)
        if export.status != HealthExportStatus.UPLOADING:
            return export
        name = _part_name(export, start)
        if default_storage.exists(name):
            if default_storage.size(name) == expected:
                return export
            # A part cut short (a worker killed mid-write on disk storage): write it again.
            default_storage.delete(name)
        content.seek(0)
        default_storage.save(name, content)
        # What storage holds is the truth (one listing), not a counter a lost write could skew.
        export.received_bytes = sum(
            min(chunk, export.size_bytes - offset)
            for offset, _name in health_export_parts(export=export)
        )
        fields = ["received_bytes", "updated_at"]
        if export.received_bytes >= export.size_bytes:
            export.status = HealthExportStatus.QUEUED
            fields.append("status")
            export_id = export.pk

            def queue() -> None:
                from apps.wearables.providers.apple_health.tasks import health_export_import_task

                health_export_import_task.delay(export_id)

            _on_commit_in_this_gym(queue)
        export.save(update_fields=fields)
    return export


def _delete_parts(export: HealthExport) -> None:
    if not export.storage_prefix:
        return  # listing "" would list the gym's whole storage
    for _offset, name in health_export_parts(export=export):
        default_storage.delete(name)


def health_export_parts_delete_on_commit(export: HealthExport) -> None:
    """Delete `export`'s stored parts once the transaction that deletes its row commits (a
    rolled-back delete keeps them). Called by the post_delete signal, so a client's deletion
    or erasure removes their uploads' files too."""
    _on_commit_in_this_gym(lambda: _delete_parts(export))


# --- Import -----------------------------------------------------------------------------------


def _parts_stream(export: HealthExport) -> parser.PartsStream:
    parts = health_export_parts(export=export)
    return parser.PartsStream(
        opener=lambda name: default_storage.open(name, "rb"), parts=parts, size=export.size_bytes
    )


def _sha256(export: HealthExport) -> str:
    digest = hashlib.sha256()
    read = 0
    with _parts_stream(export) as stream:
        while block := stream.read(parser.READ_BLOCK):
            digest.update(block)
            read += len(block)
    if read != export.size_bytes:
        raise parser.ExportError(_("The upload is incomplete: upload the file again."))
    return digest.hexdigest()


def _failed(export_id: int, message: str) -> None:
    HealthExport.objects.filter(pk=export_id).update(
        status=HealthExportStatus.FAILED, error=message[:500], updated_at=timezone.now()
    )


def _language(export: HealthExport) -> str:
    """The client's language (else the gym's): the import's messages are shown to them."""
    from apps.tenants.selectors import current_gym

    user = getattr(export.client, "user", None)
    supported = dict(settings.LANGUAGES)
    for candidate in (getattr(user, "language", ""), current_gym().language):
        if candidate in supported:
            return candidate
    return settings.LANGUAGE_CODE


def health_export_import(*, export_id: int) -> dict[str, Any]:
    """The task's body: hash, parse, store, in the client's language. Returns timings (for the
    benchmark)."""
    export = HealthExport.objects.select_related("client__user").get(pk=export_id)
    with translation.override(_language(export)):
        return _import(export_id)


def _import(export_id: int) -> dict[str, Any]:
    with transaction.atomic():
        export = HealthExport.objects.select_for_update().get(pk=export_id)
        if export.status not in (HealthExportStatus.QUEUED, HealthExportStatus.PARSING):
            return {}
        export.status = HealthExportStatus.PARSING
        export.parsed_bytes = 0
        export.error = ""
        export.save(update_fields=["status", "parsed_bytes", "error", "updated_at"])
    timings: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        sha256 = _sha256(export)
    except parser.ExportError as error:
        _failed(export_id, str(error))
        return timings
    timings["hash_seconds"] = time.perf_counter() - started
    already = (
        HealthExport.objects.filter(
            client_id=export.client_id, sha256=sha256, status=HealthExportStatus.DONE
        )
        .exclude(pk=export_id)
        .exists()
    )
    HealthExport.objects.filter(pk=export_id).update(sha256=sha256)
    if already:
        HealthExport.objects.filter(pk=export_id).update(
            status=HealthExportStatus.DONE,
            parsed_bytes=export.size_bytes,
            records_stored=0,
            updated_at=timezone.now(),
        )
        _delete_parts(export)
        return timings

    def progress(position: int) -> None:
        # updated_at too: the sweep takes an export with no progress for an hour as lost.
        HealthExport.objects.filter(pk=export_id).update(
            parsed_bytes=position, updated_at=timezone.now()
        )

    started = time.perf_counter()
    try:
        with _parts_stream(export) as raw:
            buffered = io.BufferedReader(raw, buffer_size=parser.READ_BLOCK)
            totals = parser.parse_export(buffered, today=timezone.now().date(), progress=progress)
    except parser.ExportError as error:
        _failed(export_id, str(error))
        _delete_parts(export)
        return timings
    timings["parse_seconds"] = time.perf_counter() - started
    timings["records_read"] = totals.records_read
    timings["xml_bytes"] = totals.xml_bytes
    started = time.perf_counter()
    stored = health_days_store(client_id=export.client_id, totals=totals, body=False)
    timings["days_seconds"] = time.perf_counter() - started
    # One audited transaction per reading: progress.BodyMeasurement's one writer.
    stored += _body_store(client_id=export.client_id, readings=totals.body)
    timings["write_seconds"] = time.perf_counter() - started
    _connection_touch(client_id=export.client_id)
    HealthExport.objects.filter(pk=export_id).update(
        status=HealthExportStatus.DONE,
        parsed_bytes=export.size_bytes,
        records_stored=stored,
        updated_at=timezone.now(),
    )
    _delete_parts(export)
    return timings


ABANDONED_AFTER = timedelta(days=7)
LOST_AFTER = timedelta(hours=1)


def health_exports_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Run every hour in each gym: uploads left unfinished for a week are dropped (their parts
    deleted: storage is not kept for files nobody finishes), and imports with no progress for an
    hour (a worker lost with its task) are queued again."""
    now = now or timezone.now()
    abandoned = list(
        HealthExport.objects.filter(
            status=HealthExportStatus.UPLOADING, updated_at__lt=now - ABANDONED_AFTER
        )
    )
    for export in abandoned:
        _delete_parts(export)
        HealthExport.objects.filter(pk=export.pk, status=HealthExportStatus.UPLOADING).update(
            status=HealthExportStatus.FAILED,
            error=_("The upload was not finished within a week; upload the file again."),
            updated_at=now,
        )
    lost = list(
        HealthExport.objects.filter(
            status__in=[HealthExportStatus.QUEUED, HealthExportStatus.PARSING],
            updated_at__lt=now - LOST_AFTER,
        ).values_list("pk", flat=True)
    )
    from apps.wearables.providers.apple_health.tasks import health_export_import_task

    for export_id in lost:
        HealthExport.objects.filter(pk=export_id).update(
            status=HealthExportStatus.QUEUED, updated_at=now
        )
        health_export_import_task.delay(export_id)
    return {"abandoned": len(abandoned), "requeued": len(lost)}


def _connection_touch(*, client_id: int) -> None:
    """Apple Health has no OAuth: its connection row exists so the Activity page and precedence
    know the client shares it."""
    connection, created = Connection.objects.get_or_create(
        client_id=client_id,
        provider=PROVIDER,
        defaults={"kinds": ",".join(DataKind.values)},
    )
    if not created and connection.status == ConnectionStatus.DISCONNECTED:
        Connection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.ACTIVE)
    sync_succeeded(connection_id=connection.pk)


# --- The day tables ---------------------------------------------------------------------------


def _field_value(field: str, value: float, maximum: int | None) -> Any:
    if value < 0 or (maximum is not None and value > maximum):
        return None
    if field in DECIMAL_FIELDS:
        return Decimal(str(round(value, 1)))
    if field == "resting_bpm" and value < 20:
        return None
    return round(value)


def _rows_for_day(
    client_id: int, day: str, values: dict[str, Any], kinds: set[str] | None = None
) -> dict[type, dict[str, Any]]:
    """Per model, the fields a day's winning values give (`kinds`: only these types)."""
    zone = values.get("_zone", "")
    rows: dict[type, dict[str, Any]] = {}
    for kind, (model, field, maximum) in TYPE_FIELDS.items():
        if kinds is not None and kind not in kinds:
            continue
        row = rows.setdefault(model, {"time_zone": zone})
        if kind in values:
            total, source = values[kind]
            row[field] = _field_value(field, total, maximum)
            row.setdefault("device", source[:64])
        else:
            row[field] = None
    if kinds is None or parser.SLEEP in kinds:
        rows[SleepSession] = {}
        if "sleep" in values:
            (begins, ends, stages, sleep_zone), source = values["sleep"]

            def minutes(*names: str) -> int | None:
                seconds = sum(stages.get(name, 0.0) for name in names)
                return min(32767, round(seconds / 60)) if seconds else None

            rows[SleepSession] = {
                "start_at": begins,
                "end_at": ends,
                "asleep_minutes": minutes("asleep", "light", "deep", "rem"),
                "deep_minutes": minutes("deep"),
                "light_minutes": minutes("light"),
                "rem_minutes": minutes("rem"),
                "awake_minutes": minutes("awake"),
                "time_zone": sleep_zone,
                "device": source[:64],
            }
    # A model none of whose fields has a value gets no row (nothing recorded that day).
    return {
        model: row
        for model, row in rows.items()
        if any(row.get(f) is not None for f in MODEL_FIELDS.get(model, SLEEP_FIELDS))
        or (kinds is not None and model is not SleepSession)
    }


def health_days_store(*, client_id: int, totals: parser.DayTotals, body: bool = True) -> int:
    """Write a parsed export: day rows a month per transaction, one upsert per table each;
    workouts; body readings. Returns how many rows were written."""
    days = totals.days()
    stored = 0
    ordered = sorted(days)
    for index in range(0, len(ordered), DAYS_PER_TRANSACTION):
        batch: dict[type, list[Any]] = {}
        for day in ordered[index : index + DAYS_PER_TRANSACTION]:
            for model, fields in _rows_for_day(client_id, day, days[day]).items():
                if model is SleepSession and not fields:
                    continue
                fields.setdefault("time_zone", "")
                fields.setdefault("device", "")
                batch.setdefault(model, []).append(
                    model(
                        client_id=client_id,
                        provider=PROVIDER,
                        provider_id=day,
                        date=date.fromisoformat(day),
                        **fields,
                    )
                )
        with transaction.atomic():
            for model, rows in batch.items():
                update = [*MODEL_FIELDS.get(model, SLEEP_FIELDS), "time_zone", "device", "date"]
                model.objects.bulk_create(
                    rows,
                    update_conflicts=True,
                    unique_fields=["client", "provider", "provider_id"],
                    update_fields=[*update, "updated_at"],
                )
                stored += len(rows)
    workouts = [
        ExternalWorkout(
            client_id=client_id,
            provider=PROVIDER,
            provider_id=w.provider_id,
            sport=w.sport,
            start_at=w.start_at,
            date=w.date,
            time_zone=w.time_zone,
            duration_seconds=min(w.duration_seconds, 7 * 24 * 3600),
            distance_m=_decimal(w.distance_m, 10_000_000),
            calories_kcal=round(w.calories_kcal)
            if w.calories_kcal and w.calories_kcal < 50_000
            else None,
            average_heart_rate=_bpm(w.average_heart_rate),
            max_heart_rate=_bpm(w.max_heart_rate),
            device=w.device,
        )
        for w in totals.workouts.values()
    ]
    for index in range(0, len(workouts), 500):
        ExternalWorkout.objects.bulk_create(
            workouts[index : index + 500],
            update_conflicts=True,
            unique_fields=["client", "provider", "provider_id"],
            update_fields=[
                "sport",
                "start_at",
                "date",
                "time_zone",
                "duration_seconds",
                "distance_m",
                "calories_kcal",
                "average_heart_rate",
                "max_heart_rate",
                "device",
                "updated_at",
            ],
        )
    stored += len(workouts)
    if body:
        stored += _body_store(client_id=client_id, readings=totals.body)
    return stored


def _decimal(value: float | None, maximum: int) -> Decimal | None:
    if value is None or value < 0 or value > maximum:
        return None
    return Decimal(str(round(value, 1)))


def _bpm(value: float | None) -> int | None:
    return round(value) if value is not None and 20 <= value <= 250 else None


def _body_store(*, client_id: int, readings: dict[tuple[str, str], tuple[datetime, float]]) -> int:
    """Weight and body fat into progress; a weight and a fat reading of the same moment (a
    smart scale) become one measurement. Readings stored before with the same values are
    skipped: people upload their whole history again each time, and each write is an audited
    transaction of its own."""
    from apps.progress.models import BodyMeasurement

    moments: dict[datetime, dict[str, Decimal]] = {}
    for (kind, _day), (moment, value) in readings.items():
        field = "weight_kg" if kind == parser.BODY_MASS else "body_fat_percent"
        moments.setdefault(moment, {})[field] = Decimal(str(round(value, 1)))
    if not moments:
        return 0
    known = {
        row["measured_at"]: row
        for row in BodyMeasurement.objects.filter(
            client_id=client_id,
            recorded_by=None,
            measured_at__range=(min(moments), max(moments)),
        ).values("measured_at", "weight_kg", "body_fat_percent")
    }
    stored = 0
    for moment, values in sorted(moments.items()):
        before = known.get(moment)
        if before is not None and all(before[f] == v for f, v in values.items()):
            stored += 1
            continue
        try:
            body_measurement_from_provider(
                client_id=client_id, provider=PROVIDER, measured_at=moment, **values
            )
            stored += 1
        except InvalidRecordError as error:
            logger.info("Apple Health body reading skipped: %s", error)
    return stored


# --- HealthKit samples pushed by the companion app --------------------------------------------


@dataclass(frozen=True)
class SampleIn:
    uuid: UUID
    sample_type: str
    start_at: datetime
    end_at: datetime
    value: Decimal | None
    unit: str
    source: str
    time_zone: str


def _sample_errors(index: int, raw: Any, now: datetime) -> tuple[SampleIn | None, dict[str, str]]:
    prefix = f"samples.{index}"
    if not isinstance(raw, dict):
        return None, {prefix: _("Must be an object.")}
    errors: dict[str, str] = {}
    try:
        uuid = UUID(str(raw.get("uuid", "")))
    except ValueError:
        errors[f"{prefix}.uuid"] = _("Must be a UUID.")
    sample_type = str(raw.get("type") or "")
    units = parser.KNOWN_TYPES.get(sample_type)
    if units is None:
        errors[f"{prefix}.type"] = _("Unknown or unsupported sample type.")
    unit = str(raw.get("unit") or "")
    if units is not None and sample_type != parser.SLEEP and unit not in units:
        errors[f"{prefix}.unit"] = _("Unit not accepted for this type (accepted: %(units)s).") % {
            "units": ", ".join(units)
        }
    moments: dict[str, datetime] = {}
    for key in ("start", "end"):
        try:
            moment = datetime.fromisoformat(str(raw.get(key) or ""))
            if moment.tzinfo is None:
                raise ValueError("naive")
            if moment > now + CLOCK_SKEW:
                errors[f"{prefix}.{key}"] = _("This date is in the future.")
            moments[key] = moment
        except ValueError:
            errors[f"{prefix}.{key}"] = _("Must be an ISO 8601 date and time with its offset.")
    if len(moments) == 2 and moments["end"] < moments["start"]:
        errors[f"{prefix}.end"] = _("Must not be before the start.")
    value: Decimal | None = None
    try:
        value = Decimal(str(raw.get("value")))
        if not value.is_finite():
            raise ValueError("not finite")
        if value < 0:
            errors[f"{prefix}.value"] = _("Must not be negative.")
        elif value >= Decimal("1e10"):
            errors[f"{prefix}.value"] = _("This value is too large.")
        elif sample_type == parser.SLEEP and str(int(value)) not in parser.SLEEP_STAGES:
            errors[f"{prefix}.value"] = _("Unknown sleep stage.")
    except (ValueError, ArithmeticError):
        errors[f"{prefix}.value"] = _("Must be a number.")
    source = str(raw.get("source") or "")
    if len(source) > 64:
        errors[f"{prefix}.source"] = _("At most 64 characters.")
    zone_name = str(raw.get("time_zone") or "")
    try:
        ZoneInfo(zone_name)
        if len(zone_name) > 48:
            raise ValueError("too long")
    except (ZoneInfoNotFoundError, ValueError):
        errors[f"{prefix}.time_zone"] = _("Must be an IANA time zone such as Europe/Paris.")
    if errors:
        return None, errors
    return (
        SampleIn(
            uuid=uuid,
            sample_type=sample_type,
            start_at=moments["start"],
            end_at=moments["end"],
            value=value,
            unit=unit,
            source=source,
            time_zone=zone_name,
        ),
        {},
    )


def health_samples_validate(*, samples: Any, deleted: Any) -> tuple[list[SampleIn], list[UUID]]:
    """Every field checked; any error refuses the whole batch (UploadRejectedError carries
    the errors by field, e.g. `samples.3.start`)."""
    errors: dict[str, str] = {}
    samples = [] if samples is None else samples
    deleted = [] if deleted is None else deleted
    if not isinstance(samples, list):
        errors["samples"] = _("Must be a list.")
        samples = []
    if not isinstance(deleted, list):
        errors["deleted"] = _("Must be a list.")
        deleted = []
    if len(samples) > MAX_BATCH:
        errors["samples"] = _("At most %(count)s samples a batch.") % {"count": MAX_BATCH}
    if len(deleted) > MAX_BATCH:
        errors["deleted"] = _("At most %(count)s deletions a batch.") % {"count": MAX_BATCH}
    if errors:
        raise SamplesRejectedError(errors)
    now = timezone.now()
    valid: list[SampleIn] = []
    seen: set[UUID] = set()
    for index, raw in enumerate(samples):
        sample, sample_errors = _sample_errors(index, raw, now)
        errors.update(sample_errors)
        if sample is not None:
            if sample.uuid in seen:
                errors[f"samples.{index}.uuid"] = _("This UUID is twice in the batch.")
            seen.add(sample.uuid)
            valid.append(sample)
    removed: list[UUID] = []
    for index, raw in enumerate(deleted):
        try:
            removed.append(UUID(str(raw)))
        except ValueError:
            errors[f"deleted.{index}"] = _("Must be a UUID.")
    if errors:
        raise SamplesRejectedError(errors)
    return valid, removed


class SamplesRejectedError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("samples rejected")
        self.errors = errors


def _local_day(moment: datetime, zone_name: str) -> str:
    return moment.astimezone(ZoneInfo(zone_name)).date().isoformat()


def _affected(sample: HealthSample | SampleIn) -> tuple[str, str]:
    sample_type = sample.sample_type
    if sample_type == parser.SLEEP:
        end = sample.end_at.astimezone(ZoneInfo(sample.time_zone))
        return sample_type, (end + parser.NIGHT_SHIFT).date().isoformat()
    return sample_type, _local_day(sample.start_at, sample.time_zone)


def health_samples_push(
    *, client: Any, samples: list[SampleIn], deleted: Iterable[UUID]
) -> dict[str, int]:
    """Store (idempotent by UUID) and delete samples, then re-total the days they touch."""
    deleted = list(deleted)
    affected: set[tuple[str, str]] = set()
    body: list[SampleIn] = []
    with transaction.atomic():
        old = HealthSample.objects.filter(
            client=client, uuid__in=[s.uuid for s in samples] + deleted
        ).only("sample_type", "start_at", "end_at", "time_zone")
        affected.update(_affected(sample) for sample in old)
        removed, _counts = HealthSample.objects.filter(client=client, uuid__in=deleted).delete()
        HealthSample.objects.bulk_create(
            [
                HealthSample(
                    client=client,
                    uuid=s.uuid,
                    sample_type=s.sample_type,
                    start_at=s.start_at,
                    end_at=s.end_at,
                    value=s.value,
                    unit=s.unit[:16],
                    source=s.source,
                    time_zone=s.time_zone,
                )
                for s in samples
            ],
            update_conflicts=True,
            unique_fields=["client", "uuid"],
            update_fields=[
                "sample_type",
                "start_at",
                "end_at",
                "value",
                "unit",
                "source",
                "time_zone",
            ],
        )
        for sample in samples:
            if sample.sample_type in parser.BODY_UNITS:
                body.append(sample)
            else:
                affected.add(_affected(sample))
        written = _days_retotal(client_id=client.pk, affected=affected)
    for sample in body:
        factor = parser.BODY_UNITS[sample.sample_type][sample.unit]
        value = Decimal(str(round(float(sample.value or 0) * factor, 1)))
        field = "weight_kg" if sample.sample_type == parser.BODY_MASS else "body_fat_percent"
        try:
            body_measurement_from_provider(
                client_id=client.pk,
                provider=PROVIDER,
                measured_at=sample.start_at,
                **{field: value},
            )
        except InvalidRecordError as error:
            logger.info("HealthKit body sample %s skipped: %s", sample.uuid, error)
    if samples or removed:
        _connection_touch(client_id=client.pk)
    return {"stored": len(samples), "deleted": removed, "days": written}


def _days_retotal(*, client_id: int, affected: set[tuple[str, str]]) -> int:
    """Recompute the affected (type, day) values from every stored sample of those days."""
    affected = {(kind, day) for kind, day in affected if kind not in parser.BODY_UNITS}
    if not affected:
        return 0
    days = sorted({day for _kind, day in affected})
    # Samples are stored in UTC: widen by a day each side for zones, then total by local day.
    since = datetime.fromisoformat(days[0]).replace(tzinfo=ZoneInfo("UTC")) - timedelta(days=2)
    until = datetime.fromisoformat(days[-1]).replace(tzinfo=ZoneInfo("UTC")) + timedelta(days=2)
    totals = parser.DayTotals(latest_day="9999-12-31")
    for sample in HealthSample.objects.filter(
        client_id=client_id,
        sample_type__in={kind for kind, _day in affected},
        start_at__range=(since, until),
    ).iterator(chunk_size=2000):
        zone = ZoneInfo(sample.time_zone)
        value = str(sample.value)
        if sample.sample_type == parser.SLEEP:
            value = str(int(sample.value or 0))
        totals.add(
            sample.sample_type,
            parser.apple_format(sample.start_at.astimezone(zone)),
            parser.apple_format(sample.end_at.astimezone(zone)),
            value,
            sample.unit,
            sample.source,
        )
    values = totals.days()
    written = 0
    for day in days:
        kinds = {kind for kind, affected_day in affected if affected_day == day}
        for model, fields in _rows_for_day(client_id, day, values.get(day, {}), kinds).items():
            lookup = {"client_id": client_id, "provider": PROVIDER, "provider_id": day}
            if model is SleepSession and not fields:
                SleepSession.objects.filter(**lookup).delete()
                continue
            model.objects.update_or_create(
                **lookup, defaults={"date": date.fromisoformat(day), **fields}
            )
            written += 1
    return written
