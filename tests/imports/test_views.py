"""The import pages over HTTP: the whole flow, the progress partial, roles, other gyms."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

from apps.crm.models import Client
from apps.imports import services
from apps.imports.models import ImportJob, ImportJobStatus
from apps.imports.selectors import import_progress_cache_key
from tests.conftest import GymClient
from tests.imports.conftest import csv_file


def signed_in(gym, user) -> GymClient:  # type: ignore[no-untyped-def]
    client = GymClient(gym.subdomain)
    client.force_login(user)
    return client


@pytest.fixture
def desk_client(gym_a, staff) -> GymClient:
    return signed_in(gym_a, staff["desk"])


def test_upload_map_check_and_import(
    gym_a, staff, desk_client, sample_bytes, django_capture_on_commit_callbacks
):
    page = desk_client.get("/clients/import/")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.content.decode()

    response = desk_client.post("/clients/import/", {"file": csv_file(sample_bytes, "export.csv")})
    assert response.status_code == 302
    with tenant_context(gym_a):
        job = ImportJob.objects.get()
    assert response["Location"] == f"/clients/import/{job.pk}/columns/"

    page = desk_client.get(f"/clients/import/{job.pk}/columns/").content.decode()
    assert "Mobile Phone" in page
    assert "(555) 201-0001" in page
    assert '<option value="phone" selected>' in page  # the guess

    data = {f"column_{i}": job.column_mapping.get(h, "") for i, h in enumerate(job.headers)}
    response = desk_client.post(f"/clients/import/{job.pk}/columns/", {**data, "date_order": "mdy"})
    assert response.status_code == 302
    assert response["Location"] == f"/clients/import/{job.pk}/check/"

    page = desk_client.get(f"/clients/import/{job.pk}/check/").content.decode()
    assert "Import 24 rows" in page
    assert "Same email as row 3." in page
    assert re.search(r"<td [^>]*>27</td>", page)
    assert "<code>first_name</code>" in page
    with tenant_context(gym_a):
        assert not Client.objects.exists()

    with tenant_context(gym_a), django_capture_on_commit_callbacks(execute=True):
        response = desk_client.post(f"/clients/import/{job.pk}/start/")
    assert response.status_code == 302
    assert response["Location"] == f"/clients/import/{job.pk}/"

    page = desk_client.get(f"/clients/import/{job.pk}/").content.decode()
    assert 'data-status="done"' in page
    assert 'data-count="create">24<' in page
    assert "hx-trigger" not in page  # finished: the page stops polling
    with tenant_context(gym_a):
        assert Client.objects.count() == 24


def test_a_wrong_mapping_is_shown_on_the_form(gym_a, staff, desk_client, sample_bytes):
    desk_client.post("/clients/import/", {"file": csv_file(sample_bytes)})
    with tenant_context(gym_a):
        job = ImportJob.objects.get()
    response = desk_client.post(
        f"/clients/import/{job.pk}/columns/", {"column_6": "status", "date_order": "mdy"}
    )
    assert response.status_code == 400
    assert "Map a column to First name or to Full name." in response.content.decode()


def test_not_a_csv_file_is_a_clear_error(desk_client):
    response = desk_client.post(
        "/clients/import/", {"file": csv_file(b"\x89PNG\r\n\x1a\n....", "photo.csv")}
    )
    assert response.status_code == 400
    assert "This is not a CSV file" in response.content.decode()


def test_the_page_polls_progress_while_the_import_runs(gym_a, staff, desk_client, sample_bytes):
    with tenant_context(gym_a):
        job = services.import_job_create(actor=staff["desk"], upload=csv_file(sample_bytes))
        job = services.import_job_preview(
            actor=staff["desk"], job=job, mapping=job.column_mapping, date_order="mdy"
        )
        # Started; its task is sent when this commits, which a test's transaction never does:
        # the job stays running, as it does while a worker imports.
        services.import_job_start(actor=staff["desk"], job=job)
        cache.set(import_progress_cache_key(job.pk), {"progress": 42, "processed": 13, "total": 30})
    page = desk_client.get(f"/clients/import/{job.pk}/").content.decode()
    assert f'hx-get="/clients/import/{job.pk}/progress/"' in page
    assert 'hx-trigger="every 1s"' in page
    partial = desk_client.get(f"/clients/import/{job.pk}/progress/")
    assert partial.status_code == 200
    html = partial.content.decode()
    assert 'data-progress="42"' in html
    assert "13 of 30 rows" in html
    assert 'hx-trigger="every 1s"' in html
    assert "<html" not in html  # a fragment for HTMX to swap in


def test_a_failed_import_says_why(gym_a, staff, desk_client):
    with tenant_context(gym_a):
        job = services.import_job_create(
            actor=staff["desk"], upload=csv_file("Name,Email\nAnn,ann@example.com\n")
        )
        services.import_job_fail(job_id=job.pk, message="Row 2 could not be imported: boom.")
    page = desk_client.get(f"/clients/import/{job.pk}/progress/").content.decode()
    assert 'data-status="failed"' in page
    assert "Row 2 could not be imported: boom." in page
    assert "Try again" in page


@pytest.mark.parametrize("role", ["trainer", "client"])
def test_trainers_and_clients_get_403(gym_a, staff, role):
    user = staff["trainer"].user if role == "trainer" else staff["client"]
    client = signed_in(gym_a, user)
    assert client.get("/clients/import/").status_code == 403
    assert client.post("/clients/import/", {"file": csv_file("a,b\n1,2\n")}).status_code == 403


def test_anonymous_visitors_go_to_the_login_page(client_a):
    response = client_a.get("/clients/import/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_front_desk_sees_only_their_own_imports(gym_a, staff, sample_bytes):
    with tenant_context(gym_a):
        job = services.import_job_create(
            actor=staff["desk"], upload=csv_file(sample_bytes, "Mindbody export.csv")
        )
    assert (
        "Mindbody export.csv"
        in signed_in(gym_a, staff["desk"]).get("/clients/import/").content.decode()
    )
    other_desk = signed_in(gym_a, staff["desk2"])
    assert other_desk.get(f"/clients/import/{job.pk}/columns/").status_code == 404
    assert "Mindbody" not in other_desk.get("/clients/import/").content.decode()
    manager = signed_in(gym_a, staff["manager"])
    assert manager.get(f"/clients/import/{job.pk}/columns/").status_code == 200


def test_a_job_of_gym_a_does_not_exist_on_gym_b(gym_a, gym_b, staff, owner_b, sample_bytes):
    with tenant_context(gym_a):
        job = services.import_job_create(actor=staff["desk"], upload=csv_file(sample_bytes))
    owner_of_b = signed_in(gym_b, owner_b)
    for path in ("", "columns/", "check/", "progress/"):
        assert owner_of_b.get(f"/clients/import/{job.pk}/{path}").status_code == 404
    assert owner_of_b.post(f"/clients/import/{job.pk}/start/").status_code == 404
    with tenant_context(gym_a):
        assert ImportJob.objects.get(pk=job.pk).status == ImportJobStatus.UPLOADED
