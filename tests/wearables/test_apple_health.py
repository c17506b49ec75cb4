"""Apple Health: an export.zip uploaded in chunks and read as a stream on Celery (eager here),
and the HealthKit push API. Real storage (the test media folder), real PostgreSQL."""

# XML lines are kept whole as the Health app writes them (curly apostrophes included).
# ruff: noqa: E501, RUF001
from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from xml.parsers import expat

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.progress.models import BodyMeasurement
from apps.wearables.models import (
    Connection,
    DailyActivity,
    ExternalWorkout,
    HealthExport,
    HealthExportStatus,
    HealthSample,
    HeartRateDay,
    NutritionDay,
    Provider,
    SleepSession,
)
from apps.wearables.providers.apple_health import parser, services
from tests.conftest import ALPHA, BRAVO
from tests.wearables.conftest import make_client

CHUNK = 256
START = "/portal/activity/apple-health/uploads/"
SAMPLES = "/api/v1/wearables/apple-health/samples/"

# Apple's internal DTD as some iOS versions wrote it: an element declaration with an unclosed
# group, which expat refuses (test_the_broken_dtd_really_is_broken).
BROKEN_DTD = """<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT WorkoutActivity ((WorkoutEvent|WorkoutStatistics|MetadataEntry)*>
<!ATTLIST WorkoutActivity
  uuid CDATA #REQUIRED
  startDate CDATA #REQUIRED
  startDate CDATA #REQUIRED
>
]>
"""
WATCH = 'sourceName="Casey’s Apple Watch" sourceVersion="10.1"'
PHONE = 'sourceName="Casey’s iPhone" sourceVersion="17.1"'


def _day(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).date().isoformat()


def record(
    kind: str, source: str, unit: str, value: str, start: str, end: str | None = None
) -> str:
    unit_attribute = f' unit="{unit}"' if unit else ""
    return (
        f'<Record type="{kind}" {source}{unit_attribute} creationDate="{end or start}" '
        f'startDate="{start}" endDate="{end or start}" value="{value}">'
        '<MetadataEntry key="HKMetadataKeySyncVersion" value="2"/></Record>\n'
    )


def realistic_records(days_ago: int = 2) -> str:
    """A day as an iPhone and a Watch worn together record it (plus a scale, a food diary and
    the night before)."""
    day = _day(days_ago)
    t = f"{day} {{}} +0100"
    q = "HKQuantityTypeIdentifier"
    parts = [
        # Steps: the phone counts 3,000 and the watch 4,000 of the same walk.
        record(f"{q}StepCount", PHONE, "count", "1000", t.format("09:00:00"), t.format("09:10:00")),
        record(f"{q}StepCount", PHONE, "count", "2000", t.format("12:00:00"), t.format("12:20:00")),
        record(f"{q}StepCount", WATCH, "count", "1500", t.format("09:00:00"), t.format("09:10:00")),
        record(f"{q}StepCount", WATCH, "count", "2500", t.format("12:00:00"), t.format("12:20:00")),
        # The same record twice (Apple's exports repeat some): counted once.
        record(f"{q}StepCount", WATCH, "count", "2500", t.format("12:00:00"), t.format("12:20:00")),
        record(
            f"{q}DistanceWalkingRunning",
            WATCH,
            "km",
            "3.2",
            t.format("12:00:00"),
            t.format("12:20:00"),
        ),
        record(
            f"{q}ActiveEnergyBurned",
            WATCH,
            "kJ",
            "1046",
            t.format("12:00:00"),
            t.format("12:20:00"),
        ),
        record(
            f"{q}AppleExerciseTime", WATCH, "min", "25", t.format("12:00:00"), t.format("12:25:00")
        ),
        record(
            f"{q}RestingHeartRate",
            WATCH,
            "count/min",
            "54",
            t.format("00:00:00"),
            t.format("23:59:00"),
        ),
        record(f"{q}HeartRate", WATCH, "count/min", "71", t.format("10:00:00")),
        record(f"{q}BodyMass", 'sourceName="Withings"', "kg", "72.4", t.format("07:05:00")),
        record(
            f"{q}BodyFatPercentage", 'sourceName="Withings"', "%", "0.215", t.format("07:05:00")
        ),
        record(
            f"{q}DietaryEnergyConsumed",
            'sourceName="MyFitnessPal"',
            "kcal",
            "650",
            t.format("13:00:00"),
        ),
        record(
            f"{q}DietaryEnergyConsumed",
            'sourceName="MyFitnessPal"',
            "kcal",
            "800",
            t.format("19:00:00"),
        ),
        record(
            f"{q}DietaryProtein", 'sourceName="MyFitnessPal"', "g", "45.5", t.format("13:00:00")
        ),
        record(
            f"{q}DietaryCarbohydrates", 'sourceName="MyFitnessPal"', "g", "80", t.format("13:00:00")
        ),
        record(f"{q}DietaryFatTotal", 'sourceName="MyFitnessPal"', "g", "20", t.format("13:00:00")),
        record(f"{q}DietaryWater", 'sourceName="WaterMinder"', "mL", "750", t.format("10:00:00")),
        # A food correlation repeats records listed at the top level: not counted again.
        f'<Correlation type="HKCorrelationTypeIdentifierFood" sourceName="MyFitnessPal" startDate="{t.format("13:00:00")}" endDate="{t.format("13:00:00")}">'
        + record(
            f"{q}DietaryEnergyConsumed",
            'sourceName="MyFitnessPal"',
            "kcal",
            "650",
            t.format("13:00:00"),
        )
        + "</Correlation>\n",
    ]
    # The night ending this morning, 00:30 to 07:00.
    for start, end, stage in (
        ("00:30:00", "02:30:00", "AsleepCore"),
        ("02:30:00", "03:30:00", "AsleepDeep"),
        ("03:30:00", "04:00:00", "Awake"),
        ("04:00:00", "06:00:00", "AsleepREM"),
        ("06:00:00", "07:00:00", "AsleepCore"),
    ):
        parts.append(
            record(
                "HKCategoryTypeIdentifierSleepAnalysis",
                WATCH,
                "",
                f"HKCategoryValueSleepAnalysis{stage}",
                t.format(start),
                t.format(end),
            )
        )
    parts.append(
        f'<Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="31.5" durationUnit="min" {WATCH} '
        f'creationDate="{t.format("18:40:00")}" startDate="{t.format("18:05:00")}" endDate="{t.format("18:36:30")}">'
        '<MetadataEntry key="HKIndoorWorkout" value="0"/>'
        f'<WorkoutStatistics type="{q}ActiveEnergyBurned" startDate="{t.format("18:05:00")}" endDate="{t.format("18:36:30")}" sum="331.2" unit="Cal"/>'
        f'<WorkoutStatistics type="{q}DistanceWalkingRunning" startDate="{t.format("18:05:00")}" endDate="{t.format("18:36:30")}" sum="5.4" unit="km"/>'
        f'<WorkoutStatistics type="{q}HeartRate" startDate="{t.format("18:05:00")}" endDate="{t.format("18:36:30")}" average="152" minimum="98" maximum="178" unit="count/min"/>'
        '<WorkoutRoute><FileReference path="/workout-routes/route_1.gpx"/></WorkoutRoute>'
        "</Workout>\n"
    )
    return "".join(parts)


def export_xml(body: str, *, dtd: str = BROKEN_DTD) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + dtd
        + '<HealthData locale="en_GB">\n <ExportDate value="2026-12-05 08:00:00 +0100"/>\n'
        + ' <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>\n'
        + body
        + "</HealthData>\n"
    )


def export_zip(body: str, *, dtd: str = BROKEN_DTD, extra: bytes = b"") -> bytes:
    xml = export_xml(body, dtd=dtd)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export.xml", xml)
        archive.writestr(
            "apple_health_export/workout-routes/route_1.gpx", "<gpx/>" + extra.decode()
        )
    return buffer.getvalue()


def upload(client, data: bytes, name: str = "export.zip", skip: set[int] | None = None):  # type: ignore[no-untyped-def]
    """Start an upload and send its chunks (all but `skip`), as upload.js does."""
    started = client.post(START, {"file_name": name, "size_bytes": len(data)})
    assert started.status_code == 201, started.content
    state = started.json()
    for offset in state["missing"]:
        if skip and offset in skip:
            continue
        end = min(offset + CHUNK, len(data))
        response = client.put(
            state["chunk_url"],
            data=data[offset:end],
            content_type="application/octet-stream",
            HTTP_CONTENT_RANGE=f"bytes {offset}-{end - 1}/{len(data)}",
        )
        assert response.status_code == 200, response.content
        state = response.json()
    return state


@pytest.fixture
def casey(gym_a, client_a):  # type: ignore[no-untyped-def]
    user, client = make_client(gym_a, "casey@alpha.example")
    client_a.force_login(user)
    with override_settings(APPLE_HEALTH_CHUNK_BYTES=CHUNK):
        yield client


def _counts(client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {
        model.__name__: model.objects.filter(client=client).count()
        for model in (
            DailyActivity,
            HeartRateDay,
            SleepSession,
            NutritionDay,
            ExternalWorkout,
            BodyMeasurement,
        )
    }


# --- Parsing ----------------------------------------------------------------------------------


def test_the_broken_dtd_really_is_broken() -> None:
    xml = export_zip(realistic_records())
    with zipfile.ZipFile(io.BytesIO(xml)) as archive:
        raw = archive.read("apple_health_export/export.xml")
    with pytest.raises(expat.ExpatError):
        expat.ParserCreate().Parse(raw, True)


def test_a_realistic_export_with_a_broken_dtd_lands_in_the_day_tables(
    gym_a, client_a, casey, django_capture_on_commit_callbacks
) -> None:
    data = export_zip(realistic_records(days_ago=2))
    assert len(data) > 3 * CHUNK  # several chunks
    with django_capture_on_commit_callbacks(execute=True):
        state = upload(client_a, data)
    assert state["status"] == "queued"
    day = _day(2)
    with tenant_context(gym_a):
        export = HealthExport.objects.get(client=casey)
        assert export.status == HealthExportStatus.DONE, export.error
        assert export.parsed_bytes == export.size_bytes
        assert len(export.sha256) == 64
        activity = DailyActivity.objects.get(client=casey, provider=Provider.APPLE_HEALTH)
        # One source per day: the watch's 4,000 steps, not phone + watch (7,000) nor 6,500.
        assert (activity.provider_id, str(activity.date)) == (day, day)
        assert activity.steps == 4000
        assert activity.device == "Casey’s Apple Watch"
        assert activity.distance_m == 3200
        assert activity.calories_kcal == 250  # 1046 kJ
        assert activity.active_minutes == 25
        assert activity.time_zone == "Etc/GMT-1"
        assert HeartRateDay.objects.get(client=casey).resting_bpm == 54
        nutrition = NutritionDay.objects.get(client=casey)
        assert nutrition.calories_kcal == 1450  # the correlation's copy not counted
        assert nutrition.protein_g == Decimal("45.5")
        assert nutrition.water_ml == 750
        sleep = SleepSession.objects.get(client=casey)
        assert sleep.provider_id == day
        assert (sleep.asleep_minutes, sleep.deep_minutes, sleep.rem_minutes) == (360, 60, 120)
        assert (sleep.light_minutes, sleep.awake_minutes) == (180, 30)
        assert sleep.end_at - sleep.start_at == timedelta(hours=6, minutes=30)
        workout = ExternalWorkout.objects.get(client=casey)
        assert (workout.sport, workout.duration_seconds) == ("Running", 1890)
        assert workout.distance_m == Decimal("5400.0")
        assert (workout.average_heart_rate, workout.max_heart_rate, workout.calories_kcal) == (
            152,
            178,
            331,
        )
        measurement = BodyMeasurement.objects.get(client=casey)
        assert (measurement.weight_kg, measurement.body_fat_percent) == (
            Decimal("72.4"),
            Decimal("21.5"),
        )
        assert Connection.objects.get(client=casey, provider=Provider.APPLE_HEALTH).last_sync_at
        # The parts are gone from storage once read.
        assert services.health_export_parts(export=export) == []
        assert export.records_stored == 6

    page = client_a.get("/portal/activity/apple-health/")
    assert page.status_code == 200
    assert b"Imported" in page.content


def test_the_same_export_again_adds_nothing_and_is_not_read_again(
    gym_a, client_a, casey, django_capture_on_commit_callbacks
) -> None:
    data = export_zip(realistic_records())
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_a, data)
    with tenant_context(gym_a):
        before = _counts(casey)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_a, data, name="export (1).zip")
    with tenant_context(gym_a):
        second = HealthExport.objects.filter(client=casey).latest("pk")
        assert second.status == HealthExportStatus.DONE
        assert second.records_stored == 0  # known by its SHA-256, not parsed
        assert _counts(casey) == before
    # A different file (another entry in the zip) with the same data: read, still nothing added,
    # and the weight already in progress is not written (nor audited) again.
    from apps.audit.models import AuditEvent

    with tenant_context(gym_a):
        audited = AuditEvent.objects.filter(action="wearables.measurement_stored").count()
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_a, export_zip(realistic_records(), extra=b"<!-- -->"), name="new.zip")
    with tenant_context(gym_a):
        third = HealthExport.objects.filter(client=casey).latest("pk")
        assert third.status == HealthExportStatus.DONE
        assert third.records_stored == 6
        assert _counts(casey) == before
        assert AuditEvent.objects.filter(action="wearables.measurement_stored").count() == audited


def test_an_interrupted_upload_resumes_with_only_the_missing_chunks(
    gym_a, client_a, casey, django_capture_on_commit_callbacks
) -> None:
    data = export_zip(realistic_records())
    state = upload(client_a, data, skip={CHUNK, 3 * CHUNK})
    assert state["status"] == "uploading"
    assert state["missing"] == [CHUNK, 3 * CHUNK]
    # The page is reloaded, the same file chosen again: the same upload, two chunks to go.
    again = client_a.post(START, {"file_name": "export.zip", "size_bytes": len(data)}).json()
    assert (again["id"], again["missing"]) == (state["id"], [CHUNK, 3 * CHUNK])
    status = client_a.get(f"{START}{state['id']}/").json()
    assert status["received_bytes"] == len(data) - 2 * CHUNK
    # A chunk sent twice is stored once.
    first = client_a.put(
        state["chunk_url"],
        data=data[:CHUNK],
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes 0-{CHUNK - 1}/{len(data)}",
    )
    assert first.json()["received_bytes"] == len(data) - 2 * CHUNK
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_a, data)
    with tenant_context(gym_a):
        export = HealthExport.objects.get(pk=state["id"])
        assert export.status == HealthExportStatus.DONE, export.error
        assert DailyActivity.objects.get(client=casey).steps == 4000


def test_bad_uploads_get_a_4xx_naming_the_field(gym_a, client_a, casey) -> None:
    def errors(response):  # type: ignore[no-untyped-def]
        return response.status_code, list(response.json()["errors"])

    assert errors(client_a.post(START, {"file_name": "export.xml", "size_bytes": 10})) == (
        400,
        ["file_name"],
    )
    assert errors(client_a.post(START, {"file_name": "export.zip", "size_bytes": "x"})) == (
        400,
        ["size_bytes"],
    )
    with override_settings(APPLE_HEALTH_MAX_EXPORT_BYTES=5000):
        assert errors(client_a.post(START, {"file_name": "export.zip", "size_bytes": 5001})) == (
            413,
            ["size_bytes"],
        )
    state = client_a.post(START, {"file_name": "export.zip", "size_bytes": 3000}).json()

    def put(body: bytes, content_range: str | None):  # type: ignore[no-untyped-def]
        extra = {"HTTP_CONTENT_RANGE": content_range} if content_range else {}
        return client_a.put(
            state["chunk_url"], data=body, content_type="application/octet-stream", **extra
        )

    assert errors(put(b"x" * CHUNK, None)) == (400, ["Content-Range"])
    assert errors(put(b"x" * CHUNK, f"bytes 0-{CHUNK - 1}/3000")) == (400, ["file"])  # not a zip
    assert errors(put(b"x" * 10, "bytes 10-19/3000")) == (
        400,
        ["Content-Range"],
    )  # not on a boundary
    assert errors(put(b"x" * CHUNK, f"bytes {CHUNK}-{2 * CHUNK - 1}/9999")) == (
        400,
        ["Content-Range"],
    )
    assert errors(put(b"x" * 10, f"bytes {CHUNK}-{CHUNK + 9}/3000")) == (
        400,
        ["Content-Range"],
    )  # too short
    assert errors(put(b"x" * 4096, "bytes 4096-8191/3000")) == (
        400,
        ["Content-Range"],
    )  # past the end
    assert errors(put(b"x" * 5, f"bytes {CHUNK}-{2 * CHUNK - 1}/3000")) == (400, ["Content-Range"])
    with tenant_context(gym_a):
        export = HealthExport.objects.get(pk=state["id"])
        assert export.received_bytes == 0
        assert services.health_export_parts(export=export) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (lambda ok: ok[: len(ok) - 40], "not a complete zip"),  # truncated: no central directory
        (lambda ok: export_zip(realistic_records() + "<Record type="), "not well-formed"),
        (
            lambda ok: export_zip(
                record(
                    "HKQuantityTypeIdentifierStepCount",
                    WATCH,
                    "count",
                    "10",
                    f"{_day(-30)} 10:00:00 +0100",
                )
            ),
            "in the future",
        ),
        (
            lambda ok: export_zip(
                record(
                    "HKQuantityTypeIdentifierStepCount",
                    WATCH,
                    "count",
                    "10",
                    "2024-02-31 10:00:00 +0100",
                )
            ),
            "cannot be read",
        ),
        (lambda ok: _zip_without_export_xml(), "no export.xml"),
    ],
    ids=["truncated-zip", "bad-xml", "future-date", "bad-date", "no-export-xml"],
)
def test_a_malformed_export_fails_with_a_clear_error_and_keeps_what_was_stored(
    gym_a, client_a, casey, django_capture_on_commit_callbacks, data, message
) -> None:
    good = export_zip(realistic_records())
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_a, good)
    with tenant_context(gym_a):
        before = _counts(casey)
        steps = DailyActivity.objects.get(client=casey).steps
    # Same day, other values, then the bad part: nothing of it may be written.
    bad = data(export_zip(realistic_records().replace('value="2500"', 'value="9999"')))
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_a, bad, name="bad.zip")
    with tenant_context(gym_a):
        export = HealthExport.objects.filter(client=casey).latest("pk")
        assert export.status == HealthExportStatus.FAILED
        assert message in export.error
        assert _counts(casey) == before
        assert DailyActivity.objects.get(client=casey).steps == steps
    page = client_a.get(f"{START}{export.pk}/progress/")
    assert b"could not be read" in page.content
    assert message.encode() in page.content


def _zip_without_export_xml() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>" * 100)
    return buffer.getvalue()


def test_parts_stream_reads_parts_as_one_seekable_file() -> None:
    data = bytes(range(256)) * 40
    parts = {f"p{offset}": data[offset : offset + 1000] for offset in range(0, len(data), 1000)}
    stream = parser.PartsStream(
        opener=lambda name: io.BytesIO(parts[name]),
        parts=[(int(name[1:]), name) for name in parts],
        size=len(data),
    )
    assert stream.read() == data
    stream.seek(-1500, io.SEEK_END)
    assert stream.read(700) == data[-1500:-800]
    stream.seek(999)
    assert stream.read(2) == data[999:1001]


# --- Isolation --------------------------------------------------------------------------------


def test_nobody_else_reaches_a_clients_upload(
    gym_a, gym_b, client_a, client_b, casey, django_capture_on_commit_callbacks
) -> None:
    data = export_zip(realistic_records())
    state = upload(client_a, data, skip={0})
    # Another client of the same gym.
    from tests.conftest import GymClient

    other_user, _other = make_client(gym_a, "other@alpha.example")
    other = GymClient(ALPHA.subdomain)
    other.force_login(other_user)
    assert other.get(f"{START}{state['id']}/").status_code == 404
    assert other.get(f"{START}{state['id']}/progress/").status_code == 404
    response = other.put(
        state["chunk_url"],
        data=data[:CHUNK],
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes 0-{CHUNK - 1}/{len(data)}",
    )
    assert response.status_code == 404
    # A client of gym B, with the same export id on gym B's host.
    bravo_user, _bravo = make_client(gym_b, "casey@bravo.example")
    client_b.force_login(bravo_user)
    assert client_b.get(f"{START}{state['id']}/").status_code == 404
    response = client_b.put(
        state["chunk_url"],
        data=data[:CHUNK],
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes 0-{CHUNK - 1}/{len(data)}",
    )
    assert response.status_code == 404
    with tenant_context(gym_a):
        export = HealthExport.objects.get(pk=state["id"])
        assert services.health_export_missing(export=export) == [0]
    assert BRAVO.subdomain != ALPHA.subdomain


def test_the_upload_page_and_exports_list_run_a_bounded_number_of_queries(
    gym_a, client_a, casey, django_assert_max_num_queries
) -> None:
    with tenant_context(gym_a):
        for index in range(15):
            HealthExport.objects.create(client=casey, file_name=f"e{index}.zip", size_bytes=100)
    with django_assert_max_num_queries(12):
        assert client_a.get("/portal/activity/apple-health/").status_code == 200
    api = APIClient(HTTP_HOST=ALPHA.host)
    with tenant_context(gym_a):
        from apps.accounts.models import User

        user = User.objects.get(email="casey@alpha.example")
    api.force_authenticate(user)
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/wearables/apple-health/exports/?page_size=50")
    assert response.status_code == 200
    assert response.json()["count"] == 15


# --- HealthKit push ---------------------------------------------------------------------------


@pytest.fixture
def app(gym_a, casey):  # type: ignore[no-untyped-def]
    from apps.accounts.models import User

    with tenant_context(gym_a):
        user = User.objects.get(email="casey@alpha.example")
    api = APIClient(HTTP_HOST=ALPHA.host)
    api.force_authenticate(user)
    return api


def sample(
    kind: str = "HKQuantityTypeIdentifierStepCount", value: object = 1000, **extra: object
) -> dict:
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    return {
        "uuid": str(uuid.uuid4()),
        "type": kind,
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=10)).isoformat(),
        "value": value,
        "unit": "count",
        "source": "Casey’s Apple Watch",
        "time_zone": "UTC",
        **extra,
    }


def test_pushed_samples_are_idempotent_by_uuid_and_deletions_retotal_the_day(
    gym_a, casey, app
) -> None:
    batch = [sample(value=1000), sample(value=2500), sample(value=300, source="Casey’s iPhone")]
    first = app.post(SAMPLES, {"samples": batch}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["stored"] == 3
    day = (datetime.now(UTC) - timedelta(days=1)).date()
    with tenant_context(gym_a):
        assert DailyActivity.objects.get(client=casey, provider_id=day.isoformat()).steps == 3500
    # The same batch again (a retry): nothing changes.
    assert app.post(SAMPLES, {"samples": batch}, format="json").status_code == 200
    with tenant_context(gym_a):
        assert HealthSample.objects.filter(client=casey).count() == 3
        assert DailyActivity.objects.filter(client=casey).count() == 1
        assert DailyActivity.objects.get(client=casey).steps == 3500
    # A sample edited (same UUID, new value) and one deleted.
    edited = {**batch[0], "value": 1200}
    response = app.post(
        SAMPLES, {"samples": [edited], "deleted": [batch[1]["uuid"]]}, format="json"
    )
    assert response.json()["deleted"] == 1
    with tenant_context(gym_a):
        assert HealthSample.objects.filter(client=casey).count() == 2
        # The watch (1,200) still beats the phone (300): one source, never both.
        assert DailyActivity.objects.get(client=casey).steps == 1200
    app.post(SAMPLES, {"deleted": [batch[0]["uuid"], batch[0]["uuid"]]}, format="json")
    with tenant_context(gym_a):
        assert DailyActivity.objects.get(client=casey).steps == 300


def test_sleep_and_weight_samples(gym_a, casey, app) -> None:
    end = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0) - timedelta(days=1)
    batch = [
        sample(
            "HKCategoryTypeIdentifierSleepAnalysis",
            4,
            unit="",
            start=(end - timedelta(hours=2)).isoformat(),
            end=(end - timedelta(hours=1)).isoformat(),
        ),
        sample(
            "HKCategoryTypeIdentifierSleepAnalysis",
            5,
            unit="",
            start=(end - timedelta(hours=1)).isoformat(),
            end=end.isoformat(),
        ),
        sample("HKQuantityTypeIdentifierBodyMass", "160", unit="lb"),
    ]
    assert app.post(SAMPLES, {"samples": batch}, format="json").status_code == 200
    with tenant_context(gym_a):
        sleep = SleepSession.objects.get(client=casey)
        assert (sleep.deep_minutes, sleep.rem_minutes, sleep.asleep_minutes) == (60, 60, 120)
        assert BodyMeasurement.objects.get(client=casey).weight_kg == Decimal("72.6")


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"type": "HKQuantityTypeIdentifierMadeUp"}, "samples.1.type"),
        ({"start": "yesterday"}, "samples.1.start"),
        ({"end": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, "samples.1.end"),
        ({"value": -5}, "samples.1.value"),
        ({"value": "NaN"}, "samples.1.value"),
        ({"unit": "furlong"}, "samples.1.unit"),
        ({"uuid": "not-a-uuid"}, "samples.1.uuid"),
        ({"time_zone": "Mars/Olympus"}, "samples.1.time_zone"),
    ],
)
def test_a_bad_field_refuses_the_whole_batch_and_names_the_field(
    gym_a, casey, app, bad, field
) -> None:
    response = app.post(SAMPLES, {"samples": [sample(), sample(**bad)]}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    with tenant_context(gym_a):
        assert not HealthSample.objects.filter(client=casey).exists()
        assert not DailyActivity.objects.filter(client=casey).exists()


def test_batches_are_limited_and_only_clients_push(gym_a, casey, app, owner_a) -> None:
    response = app.post(
        SAMPLES, {"samples": [sample() for _ in range(services.MAX_BATCH + 1)]}, format="json"
    )
    assert response.status_code == 400
    assert "samples" in response.json()["errors"]
    staff = APIClient(HTTP_HOST=ALPHA.host)
    staff.force_authenticate(owner_a)
    assert staff.post(SAMPLES, {"samples": [sample()]}, format="json").status_code == 403
    assert APIClient(HTTP_HOST=ALPHA.host).post(
        SAMPLES, {"samples": []}, format="json"
    ).status_code in (401, 403)


def test_a_client_only_writes_and_deletes_their_own_samples(gym_a, gym_b, casey, app) -> None:
    from apps.accounts.models import User

    mine = sample()
    app.post(SAMPLES, {"samples": [mine]}, format="json")
    # Gym B's client sends a deletion of gym A's sample UUID, and a sample with the same UUID.
    _bravo_user, bravo = make_client(gym_b, "casey@bravo.example")
    with tenant_context(gym_b):
        user = User.objects.get(email="casey@bravo.example")
    api_b = APIClient(HTTP_HOST=BRAVO.host)
    api_b.force_authenticate(user)
    assert (
        api_b.post(
            SAMPLES, {"samples": [{**mine, "value": 5}], "deleted": [mine["uuid"]]}, format="json"
        ).status_code
        == 200
    )
    # Another client of gym A deleting it: nothing happens to Casey's.
    _other_user, other = make_client(gym_a, "other@alpha.example")
    with tenant_context(gym_a):
        other_user = User.objects.get(email="other@alpha.example")
    api_other = APIClient(HTTP_HOST=ALPHA.host)
    api_other.force_authenticate(other_user)
    assert (
        api_other.post(SAMPLES, {"deleted": [mine["uuid"]]}, format="json").json()["deleted"] == 0
    )
    with tenant_context(gym_a):
        assert HealthSample.objects.get(client=casey).value == Decimal("1000")
        assert DailyActivity.objects.get(client=casey).steps == 1000
        assert not DailyActivity.objects.filter(client=other).exists()
    with tenant_context(gym_b):
        assert HealthSample.objects.get(client=bravo).value == Decimal("5")


def test_the_push_api_is_in_the_schema(api_client_a) -> None:
    schema = api_client_a.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert b"/api/v1/wearables/apple-health/samples/" in schema.content


def test_storage_is_per_gym(gym_a, casey) -> None:
    with tenant_context(gym_a):
        export = services.health_export_start(client=casey, file_name="e.zip", size_bytes=2000)
        services.health_export_chunk_store(
            export=export, start=0, total=2000, body=b"PK\x03\x04" + b"x" * (CHUNK - 4)
        )
        assert default_storage.exists(f"{export.storage_prefix}/{0:013d}")
        path = default_storage.path(f"{export.storage_prefix}/{0:013d}")
    assert f"/{gym_a.schema_name}/" in path


def test_the_sweep_drops_abandoned_uploads_and_requeues_lost_imports(
    gym_a, client_a, casey, django_capture_on_commit_callbacks
) -> None:
    data = export_zip(realistic_records())
    abandoned = upload(client_a, data, name="left.zip", skip={0})
    lost = upload(client_a, data, name="lost.zip")  # queued; its task "lost" (never run here)
    fresh = upload(client_a, data, name="fresh.zip", skip={0})
    later = datetime.now(UTC) + timedelta(days=8)
    with tenant_context(gym_a):
        HealthExport.objects.filter(pk=fresh["id"]).update(updated_at=later)
        with django_capture_on_commit_callbacks(execute=True):
            result = services.health_exports_sweep(now=later)
        assert result == {"abandoned": 1, "requeued": 1}
        gone = HealthExport.objects.get(pk=abandoned["id"])
        assert gone.status == HealthExportStatus.FAILED
        assert "week" in gone.error
        assert services.health_export_parts(export=gone) == []
        assert HealthExport.objects.get(pk=lost["id"]).status == HealthExportStatus.DONE
        kept = HealthExport.objects.get(pk=fresh["id"])
        assert kept.status == HealthExportStatus.UPLOADING
        assert len(services.health_export_parts(export=kept)) > 0


def test_beat_sweeps_every_gym_hourly(db) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    from fitnesscrm.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["apple-health-exports-sweep"]
    assert (entry["task"], entry["args"], entry["schedule"]) == (
        "core.fan_out_to_gyms",
        ["wearables.apple_health_exports_sweep"],
        3600,
    )
    app.loader.import_default_modules()
    assert "wearables.apple_health_exports_sweep" in app.tasks


def test_chunks_larger_than_djangos_body_limit_are_streamed_in(
    gym_a, client_a, casey, django_capture_on_commit_callbacks, settings
) -> None:
    """A real chunk (megabytes) is over DATA_UPLOAD_MAX_MEMORY_SIZE: the view streams it from
    the request into a spooled file rather than reading request.body."""
    import os

    chunk = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 512 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "apple_health_export/export.xml",
            export_xml(realistic_records()),
            compress_type=zipfile.ZIP_DEFLATED,
        )
        # Routes and ECGs make most of a real export's bytes; stored, they do not shrink.
        archive.writestr("apple_health_export/electrocardiograms/ecg.csv", os.urandom(chunk))
    data = buffer.getvalue()
    with (
        override_settings(APPLE_HEALTH_CHUNK_BYTES=chunk),
        django_capture_on_commit_callbacks(execute=True),
    ):
        state = client_a.post(START, {"file_name": "export.zip", "size_bytes": len(data)}).json()
        assert state["missing"] == [0, chunk]
        for offset in state["missing"]:
            end = min(offset + chunk, len(data))
            response = client_a.put(
                state["chunk_url"],
                data=data[offset:end],
                content_type="application/octet-stream",
                HTTP_CONTENT_RANGE=f"bytes {offset}-{end - 1}/{len(data)}",
            )
            assert response.status_code == 200, response.content
    with tenant_context(gym_a):
        export = HealthExport.objects.get(pk=state["id"])
        assert export.status == HealthExportStatus.DONE, export.error
        assert DailyActivity.objects.get(client=casey).steps == 4000
