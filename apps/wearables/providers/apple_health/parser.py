"""Reading an Apple Health export as a stream, in flat memory whatever its size.

The export's chunks are separate objects in storage (S3 has no append); `PartsStream` reads them
as one seekable file, so `zipfile` finds the central directory at the end and then reads
`apple_health_export/export.xml` front to back. The XML goes through expat in 1 MB blocks,
with callbacks and no tree (nothing to clear), and with the DOCTYPE cut out first:
Apple's exports carry an internal DTD that several iOS versions wrote malformed.

What is kept while reading is per day, never per record (`DayTotals`): ten years of a person's
data is a few thousand days. Cumulative kinds (steps, distance, energy, exercise minutes, food
and water) count ONE source per day and type: an iPhone and a Watch worn together both count
the same steps, and Apple's own rule (prefer the Watch) is not in the export; the source with
the largest total for that day wins, which is the Watch whenever it was worn. Exact duplicates
(type, source, start, end, value) are dropped within a sliding window of the last 100,000 to
200,000 records: the export lists records by type and time, so duplicates sit next to each
other, and a window keeps memory flat where a set of every record would not.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import re
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any
from xml.parsers import expat

from django.utils.translation import gettext as _

from apps.wearables.timezones import offset_zone

EXPORT_XML = "export.xml"
READ_BLOCK = 1 << 20
# The prolog (XML declaration, DOCTYPE with its internal DTD) is a few kB; a root element not
# found in this much means it is not an Apple Health export.
MAX_PROLOG = 4 << 20
ROOT_START = re.compile(rb"<HealthData[\s>/]")
DOCTYPE_START = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
DEDUP_WINDOW = 100_000
# A day's local time can run up to 14 hours ahead of UTC.
FUTURE_MARGIN = timedelta(hours=14)

STEPS = "HKQuantityTypeIdentifierStepCount"
DISTANCE = "HKQuantityTypeIdentifierDistanceWalkingRunning"
ACTIVE_ENERGY = "HKQuantityTypeIdentifierActiveEnergyBurned"
EXERCISE = "HKQuantityTypeIdentifierAppleExerciseTime"
RESTING_HR = "HKQuantityTypeIdentifierRestingHeartRate"
BODY_MASS = "HKQuantityTypeIdentifierBodyMass"
BODY_FAT = "HKQuantityTypeIdentifierBodyFatPercentage"
DIETARY_ENERGY = "HKQuantityTypeIdentifierDietaryEnergyConsumed"
DIETARY_PROTEIN = "HKQuantityTypeIdentifierDietaryProtein"
DIETARY_CARBS = "HKQuantityTypeIdentifierDietaryCarbohydrates"
DIETARY_FAT = "HKQuantityTypeIdentifierDietaryFatTotal"
DIETARY_WATER = "HKQuantityTypeIdentifierDietaryWater"
SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"

# Cumulative types: (type, unit) -> factor to our unit (steps, m, kcal, min, kcal, g, ml).
CUMULATIVE_UNITS: dict[str, dict[str, float]] = {
    STEPS: {"count": 1.0},
    DISTANCE: {"m": 1.0, "km": 1000.0, "mi": 1609.344, "ft": 0.3048, "yd": 0.9144},
    ACTIVE_ENERGY: {"kcal": 1.0, "Cal": 1.0, "kJ": 1 / 4.184},
    EXERCISE: {"min": 1.0, "s": 1 / 60, "hr": 60.0},
    DIETARY_ENERGY: {"kcal": 1.0, "Cal": 1.0, "kJ": 1 / 4.184},
    DIETARY_PROTEIN: {"g": 1.0, "mg": 0.001, "oz": 28.3495},
    DIETARY_CARBS: {"g": 1.0, "mg": 0.001, "oz": 28.3495},
    DIETARY_FAT: {"g": 1.0, "mg": 0.001, "oz": 28.3495},
    DIETARY_WATER: {"mL": 1.0, "ml": 1.0, "L": 1000.0, "fl_oz_us": 29.5735, "cup_us": 236.588},
}
# Averaged per day over the chosen source (the one with most readings).
AVERAGED_UNITS: dict[str, dict[str, float]] = {RESTING_HR: {"count/min": 1.0}}
# Readings kept individually (the day's last one): kg, percent.
BODY_UNITS: dict[str, dict[str, float]] = {
    BODY_MASS: {"kg": 1.0, "lb": 0.45359237, "g": 0.001, "st": 6.35029318},
    BODY_FAT: {"%": 100.0},
}
# HealthKit's sleep stages: the export's names and the push API's category values.
SLEEP_STAGES = {
    "HKCategoryValueSleepAnalysisInBed": "in_bed",
    "HKCategoryValueSleepAnalysisAsleep": "asleep",
    "HKCategoryValueSleepAnalysisAsleepUnspecified": "asleep",
    "HKCategoryValueSleepAnalysisAwake": "awake",
    "HKCategoryValueSleepAnalysisAsleepCore": "light",
    "HKCategoryValueSleepAnalysisAsleepDeep": "deep",
    "HKCategoryValueSleepAnalysisAsleepREM": "rem",
    "0": "in_bed",
    "1": "asleep",
    "2": "awake",
    "3": "light",
    "4": "deep",
    "5": "rem",
}
SLEEP_UNITS: dict[str, dict[str, float]] = {SLEEP: {"": 1.0}}
# Every type read (from the export or pushed), with the units accepted for it.
KNOWN_TYPES: dict[str, dict[str, float]] = {
    **CUMULATIVE_UNITS,
    **AVERAGED_UNITS,
    **BODY_UNITS,
    **SLEEP_UNITS,
}
# A sleep segment ending after 18:00 belongs to the next morning's night.
NIGHT_SHIFT = timedelta(hours=6)

WORKOUT_DISTANCE_TYPES = (
    DISTANCE,
    "HKQuantityTypeIdentifierDistanceCycling",
    "HKQuantityTypeIdentifierDistanceSwimming",
    "HKQuantityTypeIdentifierDistanceWheelchair",
    "HKQuantityTypeIdentifierDistanceDownhillSnowSports",
)
DURATION_UNITS = {"min": 60.0, "s": 1.0, "hr": 3600.0}
# Top-level elements other than Record, Workout and Correlation (each ends a workout's children).
TOP_LEVEL = frozenset(
    {"ExportDate", "Me", "ActivitySummary", "ClinicalRecord", "Audiogram", "VisionPrescription"}
)


class ExportError(ValueError):
    """The export cannot be read (not a zip, truncated, no export.xml, bad XML or dates); the
    message is shown to the client (in their language: the import runs in it)."""


def _bad_date(value: str) -> ExportError:
    return ExportError(_("The date “%(value)s” cannot be read.") % {"value": value[:40]})


def apple_datetime(value: str) -> datetime:
    """Apple's `2021-12-11 18:04:48 -0700` (aware, in the offset it was recorded in)."""
    if len(value) != 25 or value[10] != " " or value[19] != " ":
        raise _bad_date(value)
    try:
        return datetime.fromisoformat(value[:19] + value[20:])
    except ValueError as error:
        raise _bad_date(value) from error


def apple_format(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %z")


def etc_zone(value: str) -> str:
    """The zone named by the offset of an Apple date ("2024-05-01 07:30:00 +0100")."""
    offset = value[20:25]
    if len(offset) != 5 or offset[0] not in "+-" or not offset[1:].isdigit():
        return ""
    seconds = int(offset[1:3]) * 3600 + int(offset[3:]) * 60
    return offset_zone(seconds if offset[0] == "+" else -seconds)


# --- Storage parts as one file ----------------------------------------------------------------


class PartsStream(io.RawIOBase):
    """Parts stored as separate objects (named by their byte offset) read as one seekable
    file; one part is open at a time."""

    def __init__(
        self, *, opener: Callable[[str], IO[bytes]], parts: list[tuple[int, str]], size: int
    ):
        super().__init__()
        self._opener = opener
        self._offsets = [offset for offset, _name in parts]
        self._names = [name for _offset, name in parts]
        self._size = size
        self._pos = 0
        self._index = -1
        self._file: IO[bytes] | None = None
        self._file_pos = 0
        if not parts or self._offsets[0] != 0:
            raise ExportError(_("The upload is incomplete: upload the file again."))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = self._size + offset
        self._pos = max(0, self._pos)
        return self._pos

    def _open(self, index: int) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._opener(self._names[index])
        self._index = index
        self._file_pos = 0

    def readinto(self, buffer: Any) -> int:
        """Fills `buffer` across part boundaries (no short reads before the end): zipfile
        reads its central directory in one call, and it may straddle two parts."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._pos < self._size:
            index = bisect.bisect_right(self._offsets, self._pos) - 1
            if index != self._index:
                self._open(index)
            assert self._file is not None
            inside = self._pos - self._offsets[index]
            if inside != self._file_pos:
                self._file.seek(inside)
                self._file_pos = inside
            part_end = self._offsets[index + 1] if index + 1 < len(self._offsets) else self._size
            data = self._file.read(min(len(view) - filled, part_end - self._pos))
            if not data:
                raise ExportError(_("The upload is incomplete: upload the file again."))
            count = len(data)
            view[filled : filled + count] = data
            filled += count
            self._pos += count
            self._file_pos += count
        return filled

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        super().close()


# --- Daily totals -----------------------------------------------------------------------------


@dataclass
class WorkoutFields:
    provider_id: str
    sport: str
    start_at: datetime
    date: date
    time_zone: str
    duration_seconds: int
    distance_m: float | None
    calories_kcal: float | None
    average_heart_rate: float | None
    max_heart_rate: float | None
    device: str


@dataclass
class DayTotals:
    """Everything kept while reading: per (type, day, source) sums, sleep per night and
    source, the day's last body readings, workouts by their stable id."""

    latest_day: str
    cumulative: dict[tuple[str, str, str], float] = field(default_factory=dict)
    averaged: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    # (night, source) -> [start, end, {stage: seconds}, zone]
    sleep: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    # (type, day) -> (measured_at, value)
    body: dict[tuple[str, str], tuple[datetime, float]] = field(default_factory=dict)
    workouts: dict[str, WorkoutFields] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    records_read: int = 0
    xml_bytes: int = 0
    skipped: int = 0
    _seen: set[int] = field(default_factory=set)
    _seen_before: set[int] = field(default_factory=set)

    def _check_day(self, day: str, raw: str) -> None:
        try:
            date.fromisoformat(day)
        except ValueError as error:
            raise _bad_date(raw) from error
        if day > self.latest_day:
            raise ExportError(
                _("A record is dated in the future (%(value)s).") % {"value": raw[:40]}
            )

    def _duplicate(self, key: tuple[str, ...]) -> bool:
        digest = hash(key)
        if digest in self._seen or digest in self._seen_before:
            return True
        if len(self._seen) >= DEDUP_WINDOW:
            self._seen_before, self._seen = self._seen, set()
        self._seen.add(digest)
        return False

    def add(self, kind: str, start: str, end: str, value: str, unit: str, source: str) -> None:
        """One record, with Apple's date strings; raises ExportError on a bad or future date."""
        self.records_read += 1
        if len(start) != 25 or start[10] != " " or len(end) != 25:
            raise _bad_date(start)
        if self._duplicate((kind, source, start, end, value)):
            return
        day = start[:10]
        if kind in CUMULATIVE_UNITS:
            factor = CUMULATIVE_UNITS[kind].get(unit)
            number = _number(value)
            if factor is None or number is None or number < 0:
                self.skipped += 1
                return
            key = (kind, day, source)
            total = self.cumulative.get(key)
            if total is None:
                # Kept for the whole read: one copy of each string, not one per first record.
                key = (sys.intern(kind), sys.intern(day), sys.intern(source))
                self._check_day(day, start)
                self.zones.setdefault(day, etc_zone(start))
                total = 0.0
            self.cumulative[key] = total + number * factor
        elif kind in AVERAGED_UNITS:
            factor = AVERAGED_UNITS[kind].get(unit)
            number = _number(value)
            if factor is None or number is None or number <= 0:
                self.skipped += 1
                return
            key = (kind, day, source)
            pair = self.averaged.get(key)
            if pair is None:
                key = (sys.intern(kind), sys.intern(day), sys.intern(source))
                self._check_day(day, start)
                pair = self.averaged[key] = [0.0, 0]
            pair[0] += number * factor
            pair[1] += 1
        elif kind in BODY_UNITS:
            factor = BODY_UNITS[kind].get(unit)
            number = _number(value)
            if factor is None or number is None or number <= 0:
                self.skipped += 1
                return
            self._check_day(day, start)
            moment = apple_datetime(start)
            latest = self.body.get((kind, day))
            if latest is None or latest[0] <= moment:
                self.body[(kind, day)] = (moment, number * factor)
        elif kind == SLEEP:
            stage = SLEEP_STAGES.get(value)
            if stage is None:
                self.skipped += 1
                return
            begins, ends = apple_datetime(start), apple_datetime(end)
            if ends <= begins:
                self.skipped += 1
                return
            self._check_day(end[:10], end)
            night = (ends + NIGHT_SHIFT).date().isoformat()
            session = self.sleep.get((night, source))
            if session is None:
                self.sleep[(night, source)] = [begins, ends, {stage: 0.0}, etc_zone(end)]
                session = self.sleep[(night, source)]
            session[0] = min(session[0], begins)
            session[1] = max(session[1], ends)
            session[2][stage] = session[2].get(stage, 0.0) + (ends - begins).total_seconds()
        else:
            self.skipped += 1

    def add_workout(self, attrib: dict[str, str], statistics: Iterable[dict[str, str]]) -> None:
        start, end = attrib.get("startDate", ""), attrib.get("endDate", "")
        begins, ends = apple_datetime(start), apple_datetime(end)
        self._check_day(start[:10], start)
        sport = attrib.get("workoutActivityType", "").removeprefix("HKWorkoutActivityType")
        source = attrib.get("sourceName", "")
        provider_id = hashlib.sha256("|".join((sport, start, end, source)).encode()).hexdigest()[
            :40
        ]
        duration = _number(attrib.get("duration", ""))
        factor = DURATION_UNITS.get(attrib.get("durationUnit", "min"))
        seconds = duration * factor if duration is not None and factor else None
        if seconds is None or seconds < 0:
            seconds = (ends - begins).total_seconds()
        distance = _quantity(attrib.get("totalDistance"), attrib.get("totalDistanceUnit"), DISTANCE)
        calories = _quantity(
            attrib.get("totalEnergyBurned"), attrib.get("totalEnergyBurnedUnit"), ACTIVE_ENERGY
        )
        average_hr = max_hr = None
        for stat in statistics:
            kind = stat.get("type", "")
            if kind in WORKOUT_DISTANCE_TYPES and distance is None:
                distance = _quantity(stat.get("sum"), stat.get("unit"), DISTANCE)
            elif kind == ACTIVE_ENERGY and calories is None:
                calories = _quantity(stat.get("sum"), stat.get("unit"), ACTIVE_ENERGY)
            elif kind == "HKQuantityTypeIdentifierHeartRate":
                average_hr = _number(stat.get("average", ""))
                max_hr = _number(stat.get("maximum", ""))
        self.workouts[provider_id] = WorkoutFields(
            provider_id=provider_id,
            sport=(sport or "Workout")[:32],
            start_at=begins,
            date=date.fromisoformat(start[:10]),
            time_zone=etc_zone(start),
            duration_seconds=round(seconds),
            distance_m=distance,
            calories_kcal=calories,
            average_heart_rate=average_hr,
            max_heart_rate=max_hr,
            device=source[:64],
        )

    # --- What the day tables get ---

    def days(self) -> dict[str, dict[str, Any]]:
        """Per day: {type: value} for the winning source of each type, plus 'sleep' and
        '_zone'. Cumulative and sleep: the source with the largest total; averaged: the one with
        most readings."""
        best: dict[tuple[str, str], tuple[float, str]] = {}
        for (kind, day, source), total in self.cumulative.items():
            current = best.get((kind, day))
            if current is None or (total, source) > current:
                best[(kind, day)] = (total, source)
        result: dict[str, dict[str, Any]] = {}
        for (kind, day), (total, source) in best.items():
            result.setdefault(day, {})[kind] = (total, source)
        chosen_average: dict[tuple[str, str], tuple[int, float, str]] = {}
        for (kind, day, source), (total, count) in self.averaged.items():
            current = chosen_average.get((kind, day))
            if current is None or (count, source) > (current[0], current[2]):
                chosen_average[(kind, day)] = (int(count), total / count, source)
        for (kind, day), (_count, mean, source) in chosen_average.items():
            result.setdefault(day, {})[kind] = (mean, source)
        chosen_sleep: dict[str, tuple[float, str]] = {}
        for (night, source), session in self.sleep.items():
            asleep = sum(s for stage, s in session[2].items() if stage not in ("awake", "in_bed"))
            current = chosen_sleep.get(night)
            if current is None or (asleep, source) > current:
                chosen_sleep[night] = (asleep, source)
        for night, (_asleep, source) in chosen_sleep.items():
            result.setdefault(night, {})["sleep"] = (self.sleep[(night, source)], source)
        for day, values in result.items():
            values["_zone"] = self.zones.get(day, "")
        return result


def _number(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _quantity(value: str | None, unit: str | None, kind: str) -> float | None:
    number = _number(value)
    factor = CUMULATIVE_UNITS[kind].get(unit or "")
    if number is None or factor is None or number < 0:
        return None
    return number * factor


# --- The export -------------------------------------------------------------------------------


def _xml_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    for info in archive.infolist():
        name = info.filename.rsplit("/", 1)[-1]
        if name == EXPORT_XML and info.filename.count("/") <= 1:
            return info
    raise ExportError(_("The zip has no export.xml: is it the export.zip the Health app made?"))


def _without_doctype(stream: IO[bytes]) -> Iterator[bytes]:
    """The XML in blocks, with the DOCTYPE (and its internal DTD) cut from the prolog."""
    head = b""
    while True:
        block = stream.read(READ_BLOCK)
        head += block
        match = ROOT_START.search(head)
        if match:
            break
        if not block or len(head) > MAX_PROLOG:
            raise ExportError(_("export.xml is not an Apple Health export (no HealthData)."))
    doctype = DOCTYPE_START.search(head, 0, match.start())
    if doctype:
        head = head[: doctype.start()] + head[match.start() :]
    yield head
    while block := stream.read(READ_BLOCK):
        yield block


def parse_export(
    stream: IO[bytes],
    *,
    today: date,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 16 << 20,
) -> DayTotals:
    """Read an export.zip (any seekable binary file) into day totals. `progress` gets the bytes
    of the zip read so far, every `progress_every` bytes.

    expat's callbacks directly rather than ElementTree's iterparse: no element is ever built,
    so there is nothing to clear and memory stays flat; and it reads about twice as fast."""
    totals = DayTotals(latest_day=(today + timedelta(days=1)).isoformat())
    try:
        archive = zipfile.ZipFile(stream)
        info = _xml_member(archive)
        totals.xml_bytes = info.file_size
        member = archive.open(info)
    except ExportError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        raise ExportError(_("The file is not a complete zip archive.")) from error
    except NotImplementedError as error:
        raise ExportError(_("The zip cannot be read: %(error)s") % {"error": error}) from error
    # No end-of-element callbacks in the common case (half the calls): a workout's
    # WorkoutStatistics are the ones seen until the next top-level element starts, and only
    # inside a Correlation (whose Records repeat top-level ones) is an end handler set.
    root = ""
    workout: dict[str, str] | None = None
    statistics: list[dict[str, str]] = []
    in_correlation = False
    add = totals.add
    known = KNOWN_TYPES

    def finish_workout() -> None:
        nonlocal workout
        if workout is not None:
            totals.add_workout(workout, statistics)
            workout = None

    def correlation_end(tag: str) -> None:
        nonlocal in_correlation
        if tag == "Correlation":
            in_correlation = False
            xml.EndElementHandler = None

    def start(tag: str, attrib: dict[str, str]) -> None:
        nonlocal workout, in_correlation, root
        if tag == "Record":
            if workout is not None:
                finish_workout()
            if in_correlation:
                return
            kind = attrib.get("type", "")
            if kind in known:
                add(
                    kind,
                    attrib.get("startDate", ""),
                    attrib.get("endDate", ""),
                    attrib.get("value", ""),
                    attrib.get("unit", ""),
                    attrib.get("sourceName", ""),
                )
        elif tag == "MetadataEntry":
            return
        elif tag == "WorkoutStatistics":
            if workout is not None:
                statistics.append(attrib)
        elif tag == "Workout":
            finish_workout()
            workout = attrib
            statistics.clear()
        elif tag == "Correlation":
            finish_workout()
            in_correlation = True
            xml.EndElementHandler = correlation_end
        elif tag in TOP_LEVEL:
            finish_workout()
        elif tag == "HealthData":
            root = tag

    xml = expat.ParserCreate()
    xml.StartElementHandler = start
    reported = 0
    try:
        for block in _without_doctype(member):
            xml.Parse(block, False)
            if progress is not None:
                position = stream.tell()
                if position - reported >= progress_every:
                    reported = position
                    progress(position)
        xml.Parse(b"", True)
        finish_workout()
    except expat.ExpatError as error:
        raise ExportError(
            _("export.xml is not well-formed XML (%(error)s).") % {"error": error}
        ) from error
    except (zipfile.BadZipFile, EOFError) as error:
        raise ExportError(_("The zip archive is truncated or damaged.")) from error
    except zlib.error as error:
        raise ExportError(_("The zip archive is damaged.")) from error
    finally:
        member.close()
        archive.close()
    if root != "HealthData":
        raise ExportError(_("export.xml is not an Apple Health export (no HealthData)."))
    return totals
