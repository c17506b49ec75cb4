"""Imports whose Celery message was lost: the periodic task marks them failed after
IMPORT_JOB_TIMEOUT_MINUTES, in their own gym only, and they can be run again from the same
upload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.core.tasks import fan_out_to_gyms
from apps.crm.models import Client
from apps.imports import services
from apps.imports.models import ImportJob, ImportJobStatus
from fitnesscrm.celery import app
from tests.conftest import GymClient
from tests.imports.conftest import csv_file

CSV = "First name,Email,Phone\nAnn,ann@example.com,07700 900001\nBen,ben@example.com,\n"


def _lost_job(actor, minutes_ago: int) -> ImportJob:  # type: ignore[no-untyped-def]
    """A checked job started `minutes_ago`, whose task never ran (the message was lost)."""
    job = services.import_job_create(actor=actor, upload=csv_file(CSV))
    job = services.import_job_preview(
        actor=actor, job=job, mapping=job.column_mapping, date_order=job.date_order
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJobStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    return ImportJob.objects.get(pk=job.pk)


@pytest.fixture
def jobs(gym_a, gym_b, owner_a, owner_b):  # type: ignore[no-untyped-def]
    with tenant_context(gym_a):
        old_a = _lost_job(owner_a, 31)
        recent_a = _lost_job(owner_a, 5)
    with tenant_context(gym_b):
        old_b = _lost_job(owner_b, 31)
    return {"old_a": old_a.pk, "recent_a": recent_a.pk, "old_b": old_b.pk}


def _status(gym, pk: int) -> str:  # type: ignore[no-untyped-def]
    with tenant_context(gym):
        return ImportJob.objects.get(pk=pk).status


def test_the_timeout_is_a_setting_and_beat_runs_the_task_in_every_gym(db):
    assert settings.IMPORT_JOB_TIMEOUT_MINUTES == 30
    entry = settings.CELERY_BEAT_SCHEDULE["fail-stuck-import-jobs"]
    assert entry["task"] == "core.fan_out_to_gyms"
    assert entry["args"] == ["imports.fail_stuck_jobs"]
    app.loader.import_default_modules()
    assert "imports.fail_stuck_jobs" in app.tasks


def test_gym_a_task_fails_its_old_job_only(gym_a, gym_b, jobs, django_capture_on_commit_callbacks):
    app.loader.import_default_modules()
    with tenant_context(gym_a), django_capture_on_commit_callbacks(execute=True):
        result = app.signature("imports.fail_stuck_jobs").apply_async()
    assert result.get() == 1
    assert _status(gym_a, jobs["old_a"]) == ImportJobStatus.FAILED
    assert _status(gym_a, jobs["recent_a"]) == ImportJobStatus.RUNNING  # still within time
    assert _status(gym_b, jobs["old_b"]) == ImportJobStatus.RUNNING  # another gym's job
    with tenant_context(gym_a):
        job = ImportJob.objects.get(pk=jobs["old_a"])
        assert "did not finish within 30 minutes" in job.error_message
        assert job.finished_at is not None
        assert job.file  # kept, to run it again
        assert not Client.objects.exists()  # nothing half-imported
        assert AuditEvent.objects.filter(action="import.failed", object_id=str(job.pk)).exists()

    # The beat entry's fan-out reaches gym B too, in gym B.
    with django_capture_on_commit_callbacks(execute=True):
        fan_out_to_gyms("imports.fail_stuck_jobs")
    assert _status(gym_b, jobs["old_b"]) == ImportJobStatus.FAILED
    assert _status(gym_a, jobs["recent_a"]) == ImportJobStatus.RUNNING


def test_the_timeout_follows_the_setting(gym_a, jobs, settings):
    settings.IMPORT_JOB_TIMEOUT_MINUTES = 3
    with tenant_context(gym_a):
        assert services.import_jobs_fail_stuck() == 2
        # Finished jobs are never touched again.
        assert services.import_jobs_fail_stuck() == 0


def test_a_failed_job_shows_why_and_runs_again_from_the_same_upload(
    gym_a, owner_a, jobs, django_capture_on_commit_callbacks
):
    with tenant_context(gym_a):
        services.import_jobs_fail_stuck()
    web = GymClient("alpha")
    web.force_login(owner_a)
    page = web.get(f"/clients/import/{jobs['old_a']}/").content.decode()
    assert 'data-status="failed"' in page
    assert "did not finish within 30 minutes" in page
    assert f'action="/clients/import/{jobs["old_a"]}/start/"' in page  # try again
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(f"/clients/import/{jobs['old_a']}/start/")
    assert response.status_code == 302
    assert _status(gym_a, jobs["old_a"]) == ImportJobStatus.DONE
    with tenant_context(gym_a):
        assert Client.objects.get(email="ann@example.com").phone == "+447700900001"
        assert Client.objects.count() == 2
