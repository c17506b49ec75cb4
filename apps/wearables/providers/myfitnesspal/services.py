"""Writes for MyFitnessPal: its data export into nutrition days, and the trainer's daily targets.

MyFitnessPal's API is partner-only, so clients (or their trainers) upload the export instead: a
zip of CSVs ("Nutrition-Summary-<from>-to-<to>.csv", "Exercise-Summary-...", "Measurement-...")
or the nutrition CSV alone. Its columns changed between export dates ("Fat (g)" / "Total Fat",
"Carbohydrates (g)" / "Carbs"; commas or semicolons with decimal commas; with or without a BOM),
so columns are found by their normalised names. Rows are one per meal and day; they are summed
into one NutritionDay per day (provider_id = the ISO date) with the meals kept. The whole file is
checked before anything is written, and written in one transaction: a bad file changes nothing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.crm.models import Client
from apps.imports.models import DateOrder
from apps.imports.reading import _delimiter_of, _encoding_of, csv_records, csv_text
from apps.imports.rows import date_order_guess, date_parse
from apps.tenants.selectors import current_gym, gym_today
from apps.wearables.models import (
    Connection,
    ConnectionStatus,
    DataKind,
    NutritionDay,
    NutritionTarget,
    Provider,
)
from apps.wearables.providers.myfitnesspal.selectors import can_manage_nutrition
from apps.wearables.services import InvalidRecordError

DEVICE = "MyFitnessPal"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Years of meals fit in a few MB; a member that unpacks to more is not an export (or a bomb).
MAX_CSV_BYTES = 20 * 1024 * 1024
MAX_NUTRITION_FILES = 10
# CSVs of a zip whose header is read when none is named as the nutrition summary.
MAX_SCANNED_FILES = 50
MAX_MEAL_NAME = 40
# A client a time zone or two ahead of the gym may already be in the gym's tomorrow.
FUTURE_TOLERANCE = timedelta(days=1)
WRITE_BATCH = 500

# The column each field is read from, by normalised header (lower case, letters and digits
# only: "Fat (g)" -> "fatg"). Other columns (sodium, sugar, vitamins, notes) are not stored.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "day", "diarydate", "entrydate"),
    "meal": ("meal", "mealname", "mealtype"),
    "calories_kcal": (
        "calories",
        "calorieskcal",
        "caloriescal",
        "energy",
        "energykcal",
        "kcal",
        "totalcalories",
    ),
    "fat_g": ("fatg", "fat", "totalfat", "totalfatg", "fats"),
    "carbohydrate_g": (
        "carbohydratesg",
        "carbohydrates",
        "carbohydrateg",
        "carbohydrate",
        "carbs",
        "carbsg",
        "totalcarbohydrates",
        "totalcarbohydratesg",
        "totalcarbs",
    ),
    "protein_g": ("proteing", "protein", "proteins"),
    "water_ml": ("water", "waterml", "watermilliliters"),
    "water_cups": ("watercups", "cupsofwater", "cups"),
}
NUTRIENT_FIELDS = ("calories_kcal", "protein_g", "carbohydrate_g", "fat_g")
ML_PER_CUP = Decimal("236.6")
# Most any one meal line can hold, and a whole day: beyond them the file is not what it says.
MEAL_MAXIMUM = {
    "calories_kcal": Decimal(20_000),
    "protein_g": Decimal(2_000),
    "carbohydrate_g": Decimal(4_000),
    "fat_g": Decimal(2_000),
    "water_ml": Decimal(20_000),
    "water_cups": Decimal(85),
}
DAY_MAXIMUM = {
    "calories_kcal": Decimal(30_000),
    "protein_g": Decimal(5_000),
    "carbohydrate_g": Decimal(8_000),
    "fat_g": Decimal(5_000),
    "water_ml": Decimal(30_000),
}
_ZIP_SIGNATURE = b"PK\x03\x04"
_LEADING_NUMBER = re.compile(r"\s*(\d{1,2})[-/.]\d")


class ExportFileError(InvalidRecordError):
    """The uploaded export cannot be imported; the message says where and why, for a person."""


@dataclass
class IntakeDay:
    """One day's intake as read from the export, before it is stored."""

    date: date
    totals: dict[str, Decimal | None] = field(default_factory=dict)
    # Meal name -> its summed nutrients, in the order the file lists them.
    meals: dict[str, dict[str, Decimal | None]] = field(default_factory=dict)

    def add(self, values: dict[str, Decimal | None], meal: str | None) -> None:
        _add_into(self.totals, values)
        if meal is not None:
            _add_into(self.meals.setdefault(meal, {}), values)


@dataclass(frozen=True)
class ImportResult:
    days: int
    created: int
    updated: int
    first: date | None
    last: date | None


def _add_into(into: dict[str, Decimal | None], values: dict[str, Decimal | None]) -> None:
    for name, value in values.items():
        if value is None:
            into.setdefault(name, None)
        else:
            into[name] = (into.get(name) or Decimal(0)) + value


def _header_key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.casefold())


def _column_map(headers: list[str]) -> dict[str, int]:
    """{field: column index} for the headers this export names; each field from one column."""
    by_alias = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = by_alias.get(_header_key(header))
        if name and name not in columns:
            columns[name] = index
    return columns


def _is_nutrition_header(headers: list[str]) -> bool:
    columns = _column_map(headers)
    return "date" in columns and any(name in columns for name in NUTRIENT_FIELDS)


def _number(text: str, delimiter: str) -> Decimal | None:
    """A number as the export writes it: "1234", "1,234" (thousands), "12,5" in a semicolon
    file (a decimal comma); "" or "-" is unknown. ValueError if it is not one."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if text in ("", "-", "--"):
        return None
    if "," in text:
        if "." not in text and delimiter != "," and re.fullmatch(r"-?\d+,\d+", text):
            text = text.replace(",", ".")
        elif re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text):
            text = text.replace(",", "")
        elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+,\d+", text):
            text = text.replace(".", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(text) from error
    if not number.is_finite():
        raise ValueError(text)
    return number


def _date_order(values: list[str]) -> str:
    """How the file writes its days. Current exports write ISO dates; older and localised ones
    write 11/02/2026 (American: month first) or 02.11.2026 (day first). Slashed dates that no
    value settles are month first: MyFitnessPal is an American app."""
    order = date_order_guess(values)
    settled = any(
        match and int(match[1]) > 12 for match in (_LEADING_NUMBER.match(value) for value in values)
    )
    if order == DateOrder.DAY_FIRST and not settled and any("/" in value for value in values):
        return DateOrder.MONTH_FIRST
    return order


def _file_records(content: bytes, source: str) -> tuple[str, Iterator[tuple[int, list[str]]]]:
    """The delimiter and the records (with line numbers) of one CSV file's bytes."""
    if b"\x00" in content[:8192] and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExportFileError(
            _("%(file)s is not a CSV file. Upload the zip MyFitnessPal sent, or its CSV files.")
            % {"file": source}
        )
    try:
        text = csv_text(content, _encoding_of(content))
    except ValidationError as error:
        raise ExportFileError(f"{source}: {' '.join(error.messages)}") from error
    delimiter = _delimiter_of(text)
    return delimiter, csv_records(text, delimiter)


def _parse_csv(content: bytes, *, source: str, latest: date) -> dict[date, IntakeDay]:
    """The days of one Nutrition Summary CSV (its meal lines summed per day), or ExportFileError
    naming the file, line and column at the first problem."""
    delimiter, records = _file_records(content, source)
    try:
        lines = list(records)
    except ValidationError as error:
        raise ExportFileError(f"{source}: {' '.join(error.messages)}") from error
    if not lines:
        raise ExportFileError(_("%(file)s is empty.") % {"file": source})
    _header_line, headers = lines[0]
    headers = [header.strip() for header in headers]
    columns = _column_map(headers)
    if "date" not in columns:
        raise ExportFileError(
            _(
                "%(file)s has no “Date” column. Its first line names: %(columns)s. Upload "
                "MyFitnessPal's Nutrition Summary."
            )
            % {"file": source, "columns": ", ".join(h for h in headers if h)[:300]}
        )
    if not any(name in columns for name in NUTRIENT_FIELDS):
        raise ExportFileError(
            _(
                "%(file)s has no calories or macronutrient columns (such as “Calories”, "
                "“Protein (g)”, “Carbohydrates (g)”, “Fat (g)”)."
            )
            % {"file": source}
        )
    body = lines[1:]
    if not body:
        raise ExportFileError(_("%(file)s has a header but no days.") % {"file": source})

    def cell(record: list[str], name: str) -> str:
        index = columns.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    order = _date_order([cell(record, "date") for _line, record in body])
    days: dict[date, IntakeDay] = {}
    for line, record in body:
        text = cell(record, "date")
        try:
            day = date_parse(text, order)
        except ValueError:
            raise ExportFileError(
                _("%(file)s, line %(line)s: “%(value)s” in the column “%(column)s” is not a date.")
                % {
                    "file": source,
                    "line": line,
                    "value": text[:40],
                    "column": headers[columns["date"]],
                }
            ) from None
        if day > latest:
            raise ExportFileError(
                _("%(file)s, line %(line)s: %(date)s is in the future. Nothing was imported.")
                % {"file": source, "line": line, "date": day.isoformat()}
            )
        values: dict[str, Decimal | None] = {}
        for name in (*NUTRIENT_FIELDS, "water_ml", "water_cups"):
            if name not in columns:
                continue
            raw = cell(record, name)
            column = headers[columns[name]]
            try:
                value = _number(raw, delimiter)
            except ValueError:
                raise ExportFileError(
                    _(
                        "%(file)s, line %(line)s: “%(value)s” in the column “%(column)s” is not "
                        "a number."
                    )
                    % {"file": source, "line": line, "value": raw[:40], "column": column}
                ) from None
            if value is not None and (value < 0 or value > MEAL_MAXIMUM[name]):
                raise ExportFileError(
                    _(
                        "%(file)s, line %(line)s: %(value)s in the column “%(column)s” is out "
                        "of range (0 to %(maximum)s)."
                    )
                    % {
                        "file": source,
                        "line": line,
                        "value": raw[:40],
                        "column": column,
                        "maximum": MEAL_MAXIMUM[name],
                    }
                )
            values[name] = value
        if "water_cups" in values:
            cups = values.pop("water_cups")
            if "water_ml" not in values:
                values["water_ml"] = None if cups is None else cups * ML_PER_CUP
        meal = None
        if "meal" in columns:
            meal = cell(record, "meal")[:MAX_MEAL_NAME] or _("Meal")
        days.setdefault(day, IntakeDay(date=day)).add(values, meal)
    return days


def _csv_members(archive: zipfile.ZipFile, source: str) -> list[zipfile.ZipInfo]:
    """The export's nutrition CSVs: by name ("Nutrition-Summary-..."), else any CSV whose
    header has a date and nutrients (exports renamed by the person who saved them)."""
    csvs = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and info.filename.lower().endswith(".csv")
        and not PurePosixPath(info.filename).name.startswith(("._", "."))
    ]
    for info in csvs:
        if info.file_size > MAX_CSV_BYTES:
            raise ExportFileError(
                _("%(file)s in the zip is too large to be a MyFitnessPal export.")
                % {"file": info.filename}
            )
    named = [info for info in csvs if "nutrition" in _header_key(PurePosixPath(info.filename).name)]
    chosen = named or [info for info in csvs[:MAX_SCANNED_FILES] if _holds_nutrition(archive, info)]
    if not chosen:
        raise ExportFileError(
            _("%(file)s holds no nutrition CSV (MyFitnessPal names it “Nutrition-Summary-….csv”).")
            % {"file": source}
        )
    if len(chosen) > MAX_NUTRITION_FILES:
        raise ExportFileError(
            _("%(file)s holds more than %(count)s nutrition files: upload one export at a time.")
            % {"file": source, "count": MAX_NUTRITION_FILES}
        )
    # By name, so that exports named by their period ("...-2025-01-01-to-...") read in order.
    return sorted(chosen, key=lambda info: info.filename)


def _holds_nutrition(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether a zip member's header names a date and nutrients (from its first 4 KB)."""
    with archive.open(info) as member:
        head = member.read(4096)
    try:
        _delimiter, records = _file_records(head.rsplit(b"\n", 1)[0] or head, info.filename)
        first = next(records, None)
    except (ExportFileError, ValidationError):
        return False
    return first is not None and _is_nutrition_header([h.strip() for h in first[1]])


def export_read(*, name: str, content: bytes, today: date | None = None) -> list[IntakeDay]:
    """The days in a MyFitnessPal export (a zip of CSVs or one CSV), oldest first; or
    ExportFileError naming the file, line and column at fault. Reads only: nothing is stored."""
    source = PurePosixPath(name or "export.csv").name[:80]
    if not content.strip():
        raise ExportFileError(_("%(file)s is empty.") % {"file": source})
    if len(content) > MAX_UPLOAD_BYTES:
        raise ExportFileError(
            _("%(file)s is larger than %(size)s MB: upload MyFitnessPal's export as it came.")
            % {"file": source, "size": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    latest = (today or gym_today()) + FUTURE_TOLERANCE
    days: dict[date, IntakeDay] = {}
    if content.startswith(_ZIP_SIGNATURE) or source.lower().endswith(".zip"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                for info in _csv_members(archive, source):
                    with archive.open(info) as member:
                        data = member.read(MAX_CSV_BYTES + 1)
                    if len(data) > MAX_CSV_BYTES:
                        raise ExportFileError(
                            _("%(file)s in the zip is too large to be a MyFitnessPal export.")
                            % {"file": info.filename}
                        )
                    # Two exports of overlapping periods in one zip: the later file's day
                    # replaces the earlier one's, never adds to it.
                    days.update(_parse_csv(data, source=info.filename, latest=latest))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as error:
            raise ExportFileError(
                _("%(file)s is not a complete zip file (%(error)s). Download the export again.")
                % {"file": source, "error": str(error)[:100]}
            ) from error
    else:
        days = _parse_csv(content, source=source, latest=latest)
    for day in days.values():
        for name, maximum in DAY_MAXIMUM.items():
            value = day.totals.get(name)
            if value is not None and value > maximum:
                raise ExportFileError(
                    _("%(date)s: the day's %(what)s add up to %(value)s, more than %(maximum)s.")
                    % {
                        "date": day.date.isoformat(),
                        "what": NutritionDay._meta.get_field(name).verbose_name,
                        "value": value,
                        "maximum": maximum,
                    }
                )
    return [days[key] for key in sorted(days)]


def _grams(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.1"))


def _whole(value: Decimal | None) -> int | None:
    return None if value is None else int(value.quantize(Decimal(1)))


def _meal_json(name: str, values: dict[str, Decimal | None]) -> dict[str, Any]:
    def grams(key: str) -> float | None:
        value = _grams(values.get(key))
        return None if value is None else float(value)

    return {
        "name": name,
        "calories_kcal": _whole(values.get("calories_kcal")),
        "protein_g": grams("protein_g"),
        "carbohydrate_g": grams("carbohydrate_g"),
        "fat_g": grams("fat_g"),
    }


def _nutrition_day(client: Client, day: IntakeDay, zone: str) -> NutritionDay:
    return NutritionDay(
        client=client,
        provider=Provider.MYFITNESSPAL,
        provider_id=day.date.isoformat(),
        device=DEVICE,
        time_zone=zone,
        date=day.date,
        calories_kcal=_whole(day.totals.get("calories_kcal")),
        protein_g=_grams(day.totals.get("protein_g")),
        carbohydrate_g=_grams(day.totals.get("carbohydrate_g")),
        fat_g=_grams(day.totals.get("fat_g")),
        water_ml=_whole(day.totals.get("water_ml")),
        meals=[_meal_json(name, values) for name, values in day.meals.items()],
    )


def _check_may_import(actor: User, client: Client) -> None:
    if client.user_id == actor.pk:
        return
    if not can_manage_nutrition(viewer=actor, client=client):
        raise PermissionDenied(_("Only the client, their trainers and managers import intake."))


def nutrition_import(*, actor: User, client: Client, name: str, content: bytes) -> ImportResult:
    """Import a MyFitnessPal export for `client` (by the client, or staff who may manage their
    nutrition): every day in it is created or updated in place (unique on client, provider and
    the ISO date), days not in it are left alone; the MyFitnessPal connection records the
    import. ExportFileError (nothing stored) if the file is not a valid export."""
    _check_may_import(actor, client)
    days = export_read(name=name, content=content)
    if not days:
        raise ExportFileError(_("The file has no days in it."))
    zone = current_gym().time_zone
    rows = [_nutrition_day(client, day, zone) for day in days]
    update_fields = [
        "device",
        "time_zone",
        "date",
        "calories_kcal",
        "protein_g",
        "carbohydrate_g",
        "fat_g",
        "water_ml",
        "meals",
        "updated_at",
    ]
    with transaction.atomic():
        existing = set(
            NutritionDay.objects.filter(
                client=client,
                provider=Provider.MYFITNESSPAL,
                provider_id__in=[row.provider_id for row in rows],
            ).values_list("provider_id", flat=True)
        )
        # One INSERT ... ON CONFLICT (client, provider, provider_id) DO UPDATE per batch: the
        # same rows update_or_create would give, without two queries a day.
        NutritionDay.objects.bulk_create(
            rows,
            batch_size=WRITE_BATCH,
            update_conflicts=True,
            unique_fields=["client", "provider", "provider_id"],
            update_fields=update_fields,
        )
        connection, _created = Connection.objects.select_for_update().get_or_create(
            client=client, provider=Provider.MYFITNESSPAL
        )
        connection.status = ConnectionStatus.ACTIVE
        connection.kinds = DataKind.NUTRITION.value
        connection.last_sync_at = timezone.now()
        connection.last_error = ""
        connection.next_attempt_at = None
        connection.save()
        result = ImportResult(
            days=len(rows),
            created=len(rows) - len(existing),
            updated=len(existing),
            first=days[0].date,
            last=days[-1].date,
        )
        audit_record(
            action="wearables.nutrition_imported",
            actor=actor,
            obj=connection,
            changes={
                "provider": Provider.MYFITNESSPAL,
                "days": result.days,
                "created": result.created,
                "updated": result.updated,
                "first": result.first.isoformat() if result.first else None,
                "last": result.last.isoformat() if result.last else None,
            },
        )
    return result


def nutrition_target_set(
    *,
    actor: User,
    client: Client,
    calories_kcal: int | None,
    protein_g: int | None,
    carbohydrate_g: int | None,
    fat_g: int | None,
) -> NutritionTarget:
    """Set the client's daily calorie and macronutrient targets: their current trainers and
    management (front desk and the client themselves may not)."""
    if not can_manage_nutrition(viewer=actor, client=client):
        raise PermissionDenied(_("Only the client's trainers and managers set nutrition targets."))
    values = {
        "calories_kcal": calories_kcal,
        "protein_g": protein_g,
        "carbohydrate_g": carbohydrate_g,
        "fat_g": fat_g,
    }
    with transaction.atomic():
        target, _created = NutritionTarget.objects.select_for_update().get_or_create(client=client)
        before = {name: getattr(target, name) for name in values}
        for name, value in values.items():
            setattr(target, name, value)
        target.set_by = actor
        target.full_clean(exclude=["client", "set_by"])
        target.save()
        audit_record(
            action="wearables.nutrition_target_set",
            actor=actor,
            obj=client,
            changes={
                name: {"before": before[name], "after": value}
                for name, value in values.items()
                if before[name] != value
            },
        )
    return target
