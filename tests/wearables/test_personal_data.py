"""A client's wearables data in their privacy export and erasure: the nutrition target, Apple
Health uploads (their stored parts deleted from storage too) and HealthKit samples."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta

from django.core.files.storage import default_storage
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.privacy.services import personal_data_erase, personal_data_export
from apps.wearables.models import HealthExport, HealthSample, NutritionTarget
from apps.wearables.providers.apple_health import services
from tests.wearables.conftest import make_client

CHUNK = 256


def _upload(client):  # type: ignore[no-untyped-def]
    export = services.health_export_start(client=client, file_name="export.zip", size_bytes=600)
    services.health_export_chunk_store(
        export=export, start=0, total=600, body=b"PK\x03\x04" + b"x" * (CHUNK - 4)
    )
    return export


@override_settings(APPLE_HEALTH_CHUNK_BYTES=CHUNK)
def test_erasure_deletes_targets_samples_and_uploads_with_their_files(
    gym_a, owner_a, django_capture_on_commit_callbacks
) -> None:
    user, client = make_client(gym_a, "erase-me@alpha.example")
    _other_user, other = make_client(gym_a, "stays@alpha.example")
    with tenant_context(gym_a):
        for someone in (client, other):
            NutritionTarget.objects.create(client=someone, calories_kcal=2000, protein_g=120)
            HealthSample.objects.create(
                client=someone,
                uuid=uuid.uuid4(),
                sample_type="HKQuantityTypeIdentifierStepCount",
                start_at=timezone.now() - timedelta(hours=1),
                end_at=timezone.now(),
                value=900,
            )
        mine, theirs = _upload(client), _upload(other)
        assert services.health_export_parts(export=mine)

        archive = zipfile.ZipFile(io.BytesIO(personal_data_export(user=user)))
        target = json.loads(archive.read("wearables.nutritiontarget.json"))
        assert [(row["calories_kcal"], row["protein_g"]) for row in target] == [(2000, 120)]
        assert "set_by_id" not in target[0]
        exports = json.loads(archive.read("wearables.healthexport.json"))
        assert [row["id"] for row in exports] == [mine.pk]
        assert "storage_prefix" not in exports[0]
        assert len(json.loads(archive.read("wearables.healthsample.json"))) == 1

        with django_capture_on_commit_callbacks(execute=True):
            personal_data_erase(user=user, actor=owner_a)

        assert not NutritionTarget.objects.filter(client=client).exists()
        assert not HealthSample.objects.filter(client=client).exists()
        assert not HealthExport.objects.filter(client=client).exists()
        assert services.health_export_parts(export=mine) == []
        assert not default_storage.exists(f"{mine.storage_prefix}/{0:013d}")
        # Another client's data and files are untouched.
        assert NutritionTarget.objects.filter(client=other).exists()
        assert HealthSample.objects.filter(client=other).count() == 1
        assert len(services.health_export_parts(export=theirs)) == 1


def test_a_rolled_back_deletion_keeps_the_files(gym_a, django_capture_on_commit_callbacks) -> None:
    _user, client = make_client(gym_a, "keep-me@alpha.example")
    with tenant_context(gym_a), override_settings(APPLE_HEALTH_CHUNK_BYTES=CHUNK):
        export = _upload(client)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            HealthExport.objects.filter(pk=export.pk).delete()
        assert len(callbacks) == 1  # run only if the deletion commits
        assert len(services.health_export_parts(export=export)) == 1
