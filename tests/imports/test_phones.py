"""Phone numbers in an import: read by the CRM's one rule; a bad one is the row's error in the
dry run, and good ones are stored in E.164 and matched in any format."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.crm import services as crm_services
from apps.crm.models import Client
from apps.imports import services
from tests.imports.conftest import csv_file

CSV = (
    "First name,Email,Phone,Emergency phone\n"
    "Ann,ann@example.com,07700 900001,\n"
    "Ben,ben@example.com,call me,\n"
    "Cat,cat@example.com,,12\n"
    "Old,,+44 7700 900009,\n"
)


def test_a_bad_phone_is_a_row_error_in_the_dry_run(gym_a, staff):
    owner = staff["owner"]
    with tenant_context(gym_a):
        # Stored before numbers were normalised: still recognised by the row's number.
        Client.objects.create(first_name="Old", phone="07700 900009")
        job = services.import_job_create(actor=owner, upload=csv_file(CSV))
        mapping = {**job.column_mapping, "Emergency phone": "emergency_contact_phone"}
        job = services.import_job_preview(
            actor=owner, job=job, mapping=mapping, date_order=job.date_order
        )
        errors = {(e["row"], e["field"]) for e in job.report["errors"]}
        assert errors == {(3, "phone"), (4, "emergency_contact_phone")}
        ben = next(e for e in job.report["errors"] if e["row"] == 3)
        assert "not a valid phone number" in ben["messages"][0]
        counts = job.report["counts"]
        assert (counts["create"], counts["update"], counts["error"]) == (1, 0, 2)
        assert counts["skip"] == 1  # the old client, matched by phone, nothing to fill
        assert not Client.objects.filter(email="ann@example.com").exists()  # a dry run


def test_numbers_match_whatever_their_format(gym_a, staff):
    owner = staff["owner"]
    with tenant_context(gym_a):
        crm_services.client_create(actor=owner, first_name="Pat", phone="+44 7700 900001")
        job = services.import_job_create(
            actor=owner, upload=csv_file("First name,Phone\nPatricia,07700 900001\n")
        )
        job = services.import_job_preview(
            actor=owner, job=job, mapping=job.column_mapping, date_order=job.date_order
        )
        assert job.report["counts"]["create"] == 0
