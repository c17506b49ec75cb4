"""The import services against the real database: upload, dry run, import, re-import, failure."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from apps.audit.models import AuditEvent
from apps.crm import services as crm_services
from apps.crm.models import Client, ClientStatus
from apps.imports import services
from apps.imports.models import DateOrder, ImportJob, ImportJobStatus
from apps.imports.selectors import import_job_progress, import_progress_cache_key
from tests.imports.conftest import csv_file

SAMPLE_MAPPING = {
    "First Name": "first_name",
    "Last Name": "last_name",
    "Email": "email",
    "Mobile Phone": "phone",
    "Birth Date": "date_of_birth",
    "Status": "status",
    "Tags": "tags",
    "Creation Date": "joined_on",
    "Referral Source": "source",
}
# Spreadsheet row numbers of the sample's bad rows, and the field each one gets wrong.
SAMPLE_ERRORS = {
    (8, "email", "Email"),
    (12, "date_of_birth", "Birth Date"),
    (15, "status", "Status"),
    (19, "email", "Email"),
    (23, "email", "Email"),
    (27, "first_name", "First Name"),
}


def checked(actor, content, mapping=None, date_order=None):  # type: ignore[no-untyped-def]
    job = services.import_job_create(actor=actor, upload=csv_file(content))
    return services.import_job_preview(
        actor=actor,
        job=job,
        mapping=mapping if mapping is not None else job.column_mapping,
        date_order=date_order or job.date_order,
    )


def imported(actor, job, capture):  # type: ignore[no-untyped-def]
    """Start the job; the task is sent on commit and runs eagerly, as in development."""
    with capture(execute=True):
        services.import_job_start(actor=actor, job=job)
    return ImportJob.objects.get(pk=job.pk)


@pytest.fixture
def desk(staff, in_gym_a):  # type: ignore[no-untyped-def]
    return staff["desk"]


class TestUpload:
    def test_keeps_the_file_in_the_gyms_storage_and_guesses_columns(self, desk, sample_bytes):
        job = services.import_job_create(
            actor=desk, upload=csv_file(sample_bytes, "Mindbody export.csv")
        )
        assert job.status == ImportJobStatus.UPLOADED
        assert job.original_filename == "Mindbody export.csv"
        assert job.column_mapping == SAMPLE_MAPPING
        assert job.date_order == DateOrder.MONTH_FIRST  # 12/25/1988 settles it
        # The storage puts it under the gym's own folder; the path never uses the given name.
        assert job.file.name.startswith("imports/")
        assert f"/{connection.schema_name}/" in job.file.path
        with job.file.open("rb") as handle:
            assert handle.read() == sample_bytes
        assert AuditEvent.objects.filter(action="import.uploaded", actor=desk).exists()

    def test_refuses_what_is_not_a_csv_file(self, desk):
        with pytest.raises(ValidationError) as excinfo:
            services.import_job_create(
                actor=desk, upload=csv_file(b"PK\x03\x04 spreadsheet", "clients.csv")
            )
        assert "not a CSV file" in excinfo.value.message_dict["file"][0]
        assert not ImportJob.objects.exists()

    def test_refuses_files_over_five_megabytes(self, desk):
        big = b"First name,Email\n" + b"Ann,ann@example.com\n" * 300_000
        with pytest.raises(ValidationError) as excinfo:
            services.import_job_create(actor=desk, upload=csv_file(big))
        assert "larger than 5 MB" in excinfo.value.message_dict["file"][0]

    def test_trainers_and_clients_cannot_import(self, staff, in_gym_a, sample_bytes):
        for actor in (staff["trainer"].user, staff["client"]):
            with pytest.raises(PermissionDenied):
                services.import_job_create(actor=actor, upload=csv_file(sample_bytes))


class TestDryRun:
    def test_reports_bad_rows_by_row_and_field_and_imports_nothing(self, desk, sample_bytes):
        job = checked(desk, sample_bytes)
        assert job.status == ImportJobStatus.PREVIEWED
        assert job.report["counts"] == {
            "total": 30,
            "create": 24,
            "update": 0,
            "skip": 0,
            "error": 6,
        }
        found = {(e["row"], e["field"], e["column"]) for e in job.report["errors"]}
        assert found == SAMPLE_ERRORS
        duplicate = next(e for e in job.report["errors"] if e["row"] == 19)
        assert duplicate["messages"] == ["Same email as row 3."]
        assert job.report["rows"][0] == {
            "row": 2,
            "action": "create",
            "name": "Ann Able",
            "email": "ann.able@example.com",
            "client": None,
            "fields": [
                "date_of_birth",
                "email",
                "first_name",
                "joined_on",
                "last_name",
                "phone",
                "source",
                "status",
                "tags",
            ],
        }
        assert not Client.objects.exists()

    def test_mapping_must_name_a_person_and_a_way_to_recognise_them(self, desk, sample_bytes):
        job = services.import_job_create(actor=desk, upload=csv_file(sample_bytes))
        with pytest.raises(ValidationError) as excinfo:
            services.import_job_preview(
                actor=desk, job=job, mapping={"Status": "status"}, date_order="mdy"
            )
        problems = excinfo.value.message_dict["column_mapping"]
        assert len(problems) == 2

    def test_front_desk_cannot_import_health_notes(self, staff, in_gym_a):
        content = "Name,Email,Medical notes\nAnn Able,ann@example.com,Asthma\n"
        job = services.import_job_create(actor=staff["desk"], upload=csv_file(content))
        assert "Medical notes" not in job.column_mapping  # not even offered
        with pytest.raises(ValidationError) as excinfo:
            services.import_job_preview(
                actor=staff["desk"],
                job=job,
                mapping={**job.column_mapping, "Medical notes": "health_notes"},
                date_order="dmy",
            )
        assert excinfo.value.message_dict["column_mapping"] == ["You cannot import Health notes."]

    def test_someone_elses_job_is_not_yours_to_handle(self, staff, in_gym_a, sample_bytes):
        job = services.import_job_create(actor=staff["desk"], upload=csv_file(sample_bytes))
        with pytest.raises(PermissionDenied):
            services.import_job_preview(
                actor=staff["desk2"], job=job, mapping=job.column_mapping, date_order="mdy"
            )
        # Managers may (the import still acts as the person who uploaded it).
        services.import_job_preview(
            actor=staff["manager"], job=job, mapping=job.column_mapping, date_order="mdy"
        )


class TestImport:
    def test_imports_the_good_rows_as_the_uploader(
        self, desk, sample_bytes, django_capture_on_commit_callbacks
    ):
        job = imported(desk, checked(desk, sample_bytes), django_capture_on_commit_callbacks)
        assert job.status == ImportJobStatus.DONE, job.error_message
        assert (job.total_rows, job.created_rows, job.updated_rows) == (30, 24, 0)
        assert (job.skipped_rows, job.failed_rows, job.progress) == (0, 6, 100)
        assert {(e["row"], e["field"], e["column"]) for e in job.report["errors"]} == SAMPLE_ERRORS
        assert Client.objects.count() == 24
        ann = Client.objects.get(email="ann.able@example.com")
        assert (ann.first_name, ann.phone, ann.tags) == (
            "Ann",
            "+445552010001",  # read in PHONE_DEFAULT_REGION (GB), stored in E.164
            ["morning", "vip"],
        )
        assert (ann.date_of_birth, ann.joined_on) == (date(1985, 3, 14), date(2019, 1, 5))
        assert (ann.status, ann.source) == (ClientStatus.ACTIVE, "Instagram")
        jose = Client.objects.get(email="jose.garcia@example.com")
        assert (jose.first_name, jose.last_name, jose.date_of_birth) == (
            "José",
            "García",
            date(1988, 12, 25),
        )
        assert Client.objects.get(last_name="Carter").status == ClientStatus.PAUSED
        assert Client.objects.get(last_name="Dorsey").status == ClientStatus.CHURNED
        assert Client.objects.get(last_name="Irwin").status == ClientStatus.LEAD
        assert Client.objects.get(last_name="Nobody").email == ""
        assert Client.objects.get(last_name="Turner").source == "import"  # no source in the file
        # Through client_create: one audit event per client, by the person who uploaded.
        created = AuditEvent.objects.filter(action="client.created")
        assert created.count() == 24
        assert set(created.values_list("actor_email", flat=True)) == {desk.email}
        assert AuditEvent.objects.filter(action="import.finished", object_id=str(job.pk)).exists()
        # The people's details are in the CRM now; the file is not kept.
        assert not job.file

    def test_reimporting_the_same_file_creates_nobody_twice(
        self, desk, sample_bytes, django_capture_on_commit_callbacks
    ):
        imported(desk, checked(desk, sample_bytes), django_capture_on_commit_callbacks)
        again = checked(desk, sample_bytes)
        assert again.report["counts"] == {
            "total": 30,
            "create": 0,
            "update": 0,
            "skip": 24,
            "error": 6,
        }
        again = imported(desk, again, django_capture_on_commit_callbacks)
        assert again.status == ImportJobStatus.DONE
        assert (again.created_rows, again.updated_rows, again.skipped_rows) == (0, 0, 24)
        assert Client.objects.count() == 24

    def test_existing_clients_are_completed_never_overwritten(
        self, staff, in_gym_a, sample_bytes, django_capture_on_commit_callbacks
    ):
        owner = staff["owner"]
        ann = crm_services.client_create(
            actor=owner,
            first_name="Annie",
            last_name="Able",
            email="ANN.ABLE@example.com",
            status=ClientStatus.TRIAL,
            tags=["kettlebells"],
            joined_on=date(2024, 2, 1),
        )
        # Found by phone (no email on either side), digits only.
        pat = crm_services.client_create(actor=owner, first_name="Patricia", phone="555 201 0024")
        # Same phone as Ben's row but another email: another person, not a match.
        crm_services.client_create(
            actor=owner, first_name="Bea", email="bea@example.com", phone="555-201-0002"
        )
        job = checked(staff["desk"], sample_bytes)
        assert job.report["counts"]["update"] == 2
        assert job.report["counts"]["create"] == 22
        updates = {
            row["row"]: row["fields"] for row in job.report["rows"] if row["action"] == "update"
        }
        assert updates == {
            2: ["date_of_birth", "phone", "source", "tags"],
            25: ["last_name", "source"],
        }
        job = imported(staff["desk"], job, django_capture_on_commit_callbacks)
        assert (job.created_rows, job.updated_rows, job.skipped_rows) == (22, 2, 0)
        ann.refresh_from_db()
        assert ann.first_name == "Annie"  # already filled: kept
        assert ann.status == ClientStatus.TRIAL  # the gym's own status stands
        assert ann.joined_on == date(2024, 2, 1)
        assert ann.phone == "+445552010001"  # was empty: filled
        assert ann.tags == ["kettlebells", "morning", "vip"]  # tags added
        pat.refresh_from_db()
        assert (pat.first_name, pat.last_name, pat.source) == ("Patricia", "Nobody", "Walk-in")
        assert Client.objects.filter(email="ben.baker@example.com").exists()
        assert AuditEvent.objects.filter(action="client.updated", object_id=str(ann.pk)).exists()

    def test_a_failure_at_import_time_rolls_everything_back(
        self, desk, sample_bytes, django_capture_on_commit_callbacks
    ):
        # A rule only the database knows (as a constraint added after the dry run would be):
        # row 5 (Zoë) passes the dry run and is refused at import time, after rows 2-4.
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE crm_client ADD CONSTRAINT test_refuses_zoe "
                "CHECK (first_name <> 'Zoë') NOT VALID"
            )
        job = checked(desk, sample_bytes)
        assert job.report["counts"]["create"] == 24
        job = imported(desk, job, django_capture_on_commit_callbacks)
        assert job.status == ImportJobStatus.FAILED
        assert job.error_message.startswith("Row 5 could not be imported")
        assert "test_refuses_zoe" in job.error_message
        assert "Nothing was imported" in job.error_message
        assert not Client.objects.exists()
        assert not AuditEvent.objects.filter(action="client.created").exists()
        assert job.created_rows == 0
        assert job.progress == 0
        assert job.file  # kept for another try
        assert AuditEvent.objects.filter(action="import.failed", object_id=str(job.pk)).exists()

    def test_a_duplicate_created_since_the_dry_run_is_matched_not_duplicated(
        self, desk, staff, sample_bytes, django_capture_on_commit_callbacks
    ):
        job = checked(desk, sample_bytes)
        # Someone adds Ann by hand between the check and the import.
        crm_services.client_create(
            actor=staff["owner"], first_name="Ann", email="ann.able@example.com"
        )
        job = imported(desk, job, django_capture_on_commit_callbacks)
        assert (job.created_rows, job.updated_rows) == (23, 1)
        assert Client.objects.filter(email="ann.able@example.com").count() == 1

    def test_a_job_runs_once(self, desk, sample_bytes, django_capture_on_commit_callbacks):
        job = imported(desk, checked(desk, sample_bytes), django_capture_on_commit_callbacks)
        assert services.import_job_run(job_id=job.pk).status == ImportJobStatus.DONE
        assert Client.objects.count() == 24
        with pytest.raises(ValidationError):
            services.import_job_start(actor=desk, job=job)

    def test_health_notes_from_a_manager(self, staff, in_gym_a, django_capture_on_commit_callbacks):
        manager = staff["manager"]
        content = "Name,Email,Medical notes\nAnn Able,ann@example.com,Asthma\n"
        job = checked(manager, content)
        assert job.column_mapping["Medical notes"] == "health_notes"
        imported(manager, job, django_capture_on_commit_callbacks)
        assert Client.objects.get(email="ann@example.com").health_notes == "Asthma"
        # The report names fields only: health data stays out of it.
        assert "Asthma" not in str(ImportJob.objects.get(pk=job.pk).report)


class TestProgress:
    def test_the_worker_reports_through_the_cache(
        self, desk, sample_bytes, django_capture_on_commit_callbacks
    ):
        job = imported(desk, checked(desk, sample_bytes), django_capture_on_commit_callbacks)
        assert cache.get(import_progress_cache_key(job.pk)) == {
            "progress": 100,
            "processed": 30,
            "total": 30,
        }

    def test_a_running_job_reads_its_progress_from_the_cache(self, desk, sample_bytes):
        job = checked(desk, sample_bytes)
        # Started, but its task not run yet (it is sent when the transaction commits).
        job = services.import_job_start(actor=desk, job=job)
        assert import_job_progress(job=job)["progress"] == 0
        cache.set(import_progress_cache_key(job.pk), {"progress": 42, "processed": 13, "total": 30})
        assert import_job_progress(job=job) == {"progress": 42, "processed": 13, "total": 30}
