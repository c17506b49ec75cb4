"""An Apple Health export of --size-mb (default 1024) read the way the Celery task reads it.

1. Generate: a realistic export.zip, written as a stream (one day of records is built once per
   weekday and stamped with each date): the broken internal DTD iOS writes, heart rate every few
   minutes (the bulk of any real export, read past), steps and distance from an iPhone AND a
   Watch, active energy, exercise minutes, resting heart rate, sleep stages, weight and body
   fat, food and water, workouts with their WorkoutStatistics. --compress deflates export.xml
   as the Health app does (level 1 here, for speed of generation); the default stores it, so
   the zip's size is the XML's size and MB/s is the parser's own speed.
2. Upload: the zip is cut into APPLE_HEALTH_CHUNK_BYTES parts stored in the default storage
   (what the chunked upload leaves), in a gym of its own ("bench-apple"), dropped at the end.
3. Parse and store in a subprocess (services.health_export_import, the task's body): prints
   MB/s of the zip and of export.xml, the time to write the day rows apart, and the
   subprocess's peak RSS (targets: at least 30 MB/s, RSS under 200 MB whatever the size).

    .venv/bin/python bench/apple_health.py [--size-mb 1024] [--compress] [--keep PATH]

Uses DATABASE_URL (or the embedded PostgreSQL).
"""

# Long lines are verbatim XML as the Health app writes it (curly apostrophes included).
# ruff: noqa: E501, RUF001
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Production's conditions: no debug query log; the import is queued to a broker nobody reads
# (the measured subprocess runs it), not run eagerly inside the upload.
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

SUBDOMAIN = "bench-apple"
OWNER = "owner@bench-apple.example"
MB = 1024 * 1024
TODAY = datetime.now(UTC).date()

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth      CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex    CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutActivity ((WorkoutEvent|WorkoutStatistics|MetadataEntry)*)>
<!ATTLIST WorkoutActivity
  uuid CDATA #REQUIRED
  startDate CDATA #REQUIRED
  startDate CDATA #REQUIRED
>
]>
<HealthData locale="en_US">
 <ExportDate value="{today} 08:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-04-02" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>
"""
FOOTER = "</HealthData>\n"
WATCH = 'sourceName="Casey’s Apple Watch" sourceVersion="10.1" device="&lt;&lt;HKDevice: 0x2838e0f00&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:10.1&gt;"'
PHONE = 'sourceName="Casey’s iPhone" sourceVersion="17.1" device="&lt;&lt;HKDevice: 0x2838e1a40&gt;, name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone14,5, software:17.1&gt;"'


def _record(
    kind: str, source: str, unit: str, value: str, start: str, end: str, meta: str = ""
) -> str:
    head = (
        f' <Record type="{kind}" {source} unit="{unit}" creationDate="DDDD-DD-DD {end} +0100" '
        f'startDate="DDDD-DD-DD {start} +0100" endDate="DDDD-DD-DD {end} +0100" value="{value}"'
    )
    return f"{head}>\n{meta}  </Record>\n" if meta else f"{head}/>\n"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def day_template(weekday: int) -> str:
    """One day's records with the date left as DDDD-DD-DD, varied by weekday."""
    parts: list[str] = []
    meta = '   <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n'
    for minute in range(0, 1440, 4):  # heart rate every 4 minutes: most of a real export
        bpm = 58 + (minute * 7 + weekday * 13) % 60
        parts.append(
            _record(
                "HKQuantityTypeIdentifierHeartRate",
                WATCH,
                "count/min",
                str(bpm),
                _clock(minute),
                _clock(minute),
                meta,
            )
        )
    for minute in range(7 * 60, 22 * 60, 10):  # steps, distance, energy, both devices
        steps = 40 + (minute + weekday * 31) % 300
        span = (_clock(minute), _clock(minute + 9))
        parts.append(
            _record("HKQuantityTypeIdentifierStepCount", PHONE, "count", str(steps - 7), *span)
        )
        parts.append(
            _record("HKQuantityTypeIdentifierStepCount", WATCH, "count", str(steps), *span)
        )
        parts.append(
            _record(
                "HKQuantityTypeIdentifierDistanceWalkingRunning",
                PHONE,
                "km",
                f"{steps * 0.00072:.5f}",
                *span,
            )
        )
        parts.append(
            _record(
                "HKQuantityTypeIdentifierDistanceWalkingRunning",
                WATCH,
                "km",
                f"{steps * 0.00075:.5f}",
                *span,
            )
        )
        parts.append(
            _record(
                "HKQuantityTypeIdentifierActiveEnergyBurned",
                WATCH,
                "Cal",
                f"{steps * 0.04:.3f}",
                *span,
            )
        )
    for minute in range(18 * 60, 18 * 60 + 30 + weekday * 3):
        parts.append(
            _record(
                "HKQuantityTypeIdentifierAppleExerciseTime",
                WATCH,
                "min",
                "1",
                _clock(minute),
                _clock(minute + 1),
            )
        )
    parts.append(
        _record(
            "HKQuantityTypeIdentifierRestingHeartRate",
            WATCH,
            "count/min",
            str(55 + weekday),
            "00:00:00",
            "23:59:00",
        )
    )
    # Last night: 00:30 to 07:00, cycling through the stages.
    stages = ["AsleepCore", "AsleepDeep", "AsleepCore", "AsleepREM", "Awake"]
    minute = 30
    index = 0
    while minute < 7 * 60:
        length = 25 + (index * 11 + weekday) % 30
        stage = stages[index % len(stages)]
        parts.append(
            _record(
                "HKCategoryTypeIdentifierSleepAnalysis",
                WATCH,
                "",
                f"HKCategoryValueSleepAnalysis{stage}",
                _clock(minute),
                _clock(min(minute + length, 7 * 60)),
            ).replace(' unit=""', "")
        )
        minute += length
        index += 1
    if weekday in (0, 3):
        parts.append(
            _record(
                "HKQuantityTypeIdentifierBodyMass",
                'sourceName="Withings" sourceVersion="6"',
                "kg",
                f"{70 + weekday * 0.1:.1f}",
                "07:05:00",
                "07:05:00",
            )
        )
        parts.append(
            _record(
                "HKQuantityTypeIdentifierBodyFatPercentage",
                'sourceName="Withings" sourceVersion="6"',
                "%",
                "0.224",
                "07:05:00",
                "07:05:00",
            )
        )
    for meal, kcal in (("08:00:00", 420), ("13:00:00", 650), ("19:30:00", 700 + weekday * 10)):
        app = 'sourceName="MyFitnessPal" sourceVersion="23"'
        parts.append(
            _record(
                "HKQuantityTypeIdentifierDietaryEnergyConsumed", app, "kcal", str(kcal), meal, meal
            )
        )
        parts.append(
            _record(
                "HKQuantityTypeIdentifierDietaryProtein", app, "g", f"{kcal / 20:.1f}", meal, meal
            )
        )
        parts.append(
            _record(
                "HKQuantityTypeIdentifierDietaryCarbohydrates",
                app,
                "g",
                f"{kcal / 9:.1f}",
                meal,
                meal,
            )
        )
        parts.append(
            _record(
                "HKQuantityTypeIdentifierDietaryFatTotal", app, "g", f"{kcal / 30:.1f}", meal, meal
            )
        )
    parts.append(
        _record(
            "HKQuantityTypeIdentifierDietaryWater",
            'sourceName="WaterMinder" sourceVersion="5"',
            "mL",
            "500",
            "10:00:00",
            "10:00:00",
        )
    )
    if weekday in (1, 3, 5):
        parts.append(
            f' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="{30 + weekday}.5" durationUnit="min" {WATCH} '
            'creationDate="DDDD-DD-DD 18:40:00 +0100" startDate="DDDD-DD-DD 18:05:00 +0100" endDate="DDDD-DD-DD 18:36:30 +0100">\n'
            '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
            '  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="DDDD-DD-DD 18:05:00 +0100" duration="10" durationUnit="min"/>\n'
            '  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" startDate="DDDD-DD-DD 18:05:00 +0100" endDate="DDDD-DD-DD 18:36:30 +0100" sum="331.2" unit="Cal"/>\n'
            f'  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" startDate="DDDD-DD-DD 18:05:00 +0100" endDate="DDDD-DD-DD 18:36:30 +0100" sum="{5 + weekday * 0.2:.2f}" unit="km"/>\n'
            '  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="DDDD-DD-DD 18:05:00 +0100" endDate="DDDD-DD-DD 18:36:30 +0100" average="152" minimum="98" maximum="178" unit="count/min"/>\n'
            " </Workout>\n"
        )
    return "".join(parts)


def generate(path: Path, size_bytes: int, *, compress: bool) -> dict[str, int]:
    """Write an export.zip of at least `size_bytes` (its last day yesterday at the latest);
    returns its figures."""
    templates = [day_template(weekday).encode() for weekday in range(7)]
    day_bytes = len(templates[0])
    # Enough days for the size (deflate shrinks this generated XML up to about 30 times); the
    # loop stops at the size, so the data may end before yesterday.
    ratio = 40 if compress else 1
    days = max(2, int(size_bytes * ratio / day_bytes) + 2)
    first = TODAY - timedelta(days=days)
    xml_bytes = 0
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with (
        open(path, "wb") as raw,
        zipfile.ZipFile(raw, "w", compression=method, compresslevel=1) as archive,
    ):
        with archive.open("apple_health_export/export.xml", "w", force_zip64=True) as member:
            head = HEADER.replace("{today}", TODAY.isoformat()).encode()
            member.write(head)
            xml_bytes += len(head)
            day = first
            written_days = 0
            while raw.tell() < size_bytes and day < TODAY:
                block = templates[day.weekday()].replace(b"DDDD-DD-DD", day.isoformat().encode())
                member.write(block)
                xml_bytes += len(block)
                day += timedelta(days=1)
                written_days += 1
            member.write(FOOTER.encode())
            xml_bytes += len(FOOTER)
        # Routes are in every real export and are read past.
        archive.writestr("apple_health_export/workout-routes/route_1.gpx", "<gpx/>")
    return {"zip_bytes": path.stat().st_size, "xml_bytes": xml_bytes, "days": written_days}


# --- The measured part, in a subprocess of its own (its peak RSS is the parser's) ----------------


def _child(export_id: int) -> None:
    import django

    django.setup()
    from django_tenants.utils import tenant_context

    from apps.tenants.models import Gym
    from apps.wearables.models import HealthExport
    from apps.wearables.providers.apple_health import services

    setup = resource.getrusage(resource.RUSAGE_SELF)
    setup_cpu = setup.ru_utime + setup.ru_stime
    baseline_mb = setup.ru_maxrss / 1024

    gym = Gym.objects.get(subdomain=SUBDOMAIN)
    with tenant_context(gym):
        started = time.perf_counter()
        timings = services.health_export_import(export_id=export_id)
        elapsed = time.perf_counter() - started
        export = HealthExport.objects.get(pk=export_id)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = usage.ru_maxrss
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "timings": timings,
                "status": export.status,
                "error": export.error,
                "records_stored": export.records_stored,
                "peak_rss_mb": peak_kb / 1024,
                "baseline_rss_mb": baseline_mb,
                "cpu_seconds": usage.ru_utime + usage.ru_stime - setup_cpu,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--compress", action="store_true")
    parser.add_argument(
        "--keep", help="generate into (or reuse) this zip instead of a temporary one"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return

    import tempfile

    path = Path(args.keep) if args.keep else Path(tempfile.mkdtemp()) / "export.zip"
    started = time.perf_counter()
    if path.exists() and args.keep:
        figures = {"zip_bytes": path.stat().st_size, "xml_bytes": 0, "days": 0}
        print(f"reusing {path}: {figures['zip_bytes'] / MB:.0f} MB")
    else:
        figures = generate(path, args.size_mb * MB, compress=args.compress)
        seconds = time.perf_counter() - started
        print(
            f"generated {path}: {figures['zip_bytes'] / MB:.0f} MB zip, "
            f"{figures['xml_bytes'] / MB:.0f} MB export.xml, {figures['days']} days "
            f"in {seconds:.1f} s ({figures['zip_bytes'] / MB / seconds:.0f} MB/s)"
        )

    import django

    django.setup()
    from django.conf import settings
    from django_tenants.utils import tenant_context

    from apps.tenants.models import Gym
    from apps.tenants.services import gym_create
    from apps.wearables.models import HealthExportStatus
    from apps.wearables.providers.apple_health import services

    for leftover in Gym.objects.filter(subdomain=SUBDOMAIN):  # an interrupted earlier run
        leftover.delete(force_drop=True)
    gym = gym_create(name="Bench Apple", subdomain=SUBDOMAIN, owner_email=OWNER)
    try:
        with tenant_context(gym):
            from apps.crm.models import Client

            client = Client.objects.create(
                first_name="Casey", last_name="Bench", email="casey@bench-apple.example"
            )
            export = services.health_export_start(
                client=client, file_name="export.zip", size_bytes=figures["zip_bytes"]
            )
            chunk = settings.APPLE_HEALTH_CHUNK_BYTES
            started = time.perf_counter()
            with open(path, "rb") as source:
                offset = 0
                while offset < figures["zip_bytes"]:
                    data = source.read(chunk)
                    services.health_export_chunk_store(
                        export=export, start=offset, total=figures["zip_bytes"], body=data
                    )
                    offset += len(data)
            upload_seconds = time.perf_counter() - started
            export.refresh_from_db()
            assert export.status == HealthExportStatus.QUEUED, export.status
            print(
                f"upload: {figures['zip_bytes'] // chunk + 1} chunks of {chunk // MB} MB into storage "
                f"in {upload_seconds:.1f} s"
            )
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(export.pk)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ},
        )
        if child.returncode:
            print(child.stderr[-4000:])
            raise SystemExit(child.returncode)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        seconds = result["seconds"]
        timings = result["timings"]
        zip_mb = figures["zip_bytes"] / MB
        print(
            f"import: {result['status']} {result['error']} {result['records_stored']} rows stored"
        )
        print(
            f"  total {seconds:.1f} s: hash {timings['hash_seconds']:.1f} s, "
            f"parse {timings['parse_seconds']:.1f} s, write {timings['write_seconds']:.1f} s "
            f"(day rows and workouts {timings['days_seconds']:.1f} s, the rest weight and body "
            "fat through the progress service)"
        )
        print(
            f"  zip: {zip_mb / seconds:.1f} MB/s overall, {zip_mb / timings['parse_seconds']:.1f} MB/s parse (target >= 30)"
        )
        if timings.get("xml_bytes"):
            xml_mb = timings["xml_bytes"] / MB
            print(
                f"  export.xml: {xml_mb:.0f} MB, {xml_mb / timings['parse_seconds']:.1f} MB/s parse"
            )
        print(f"  records read: {timings['records_read']}")
        print(
            f"  CPU time of the import: {result['cpu_seconds']:.1f} s "
            f"({zip_mb / result['cpu_seconds']:.1f} MB per CPU second; "
            f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
        )
        print(
            f"  peak RSS of the importing process: {result['peak_rss_mb']:.0f} MB (target < 200; "
            f"{result['baseline_rss_mb']:.0f} MB of it is Django and the apps loaded)"
        )
        with tenant_context(gym):
            export.refresh_from_db()
            left = services.health_export_parts(export=export)
            print(f"parts left in storage after the import: {len(left)}")
    finally:
        gym.delete(force_drop=True)
        if not args.keep:
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
