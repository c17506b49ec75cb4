"""The CSV export of the client list: filters, roles, two-factor, spreadsheet safety, queries."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.crm import services as crm_services
from apps.crm.models import Client, ClientStatus
from apps.imports import services
from apps.imports.exports import EXPORT_COLUMNS
from apps.imports.models import ImportJobStatus
from tests.conftest import GymClient, activate_totp
from tests.imports.conftest import csv_file


def signed_in(gym, user) -> GymClient:  # type: ignore[no-untyped-def]
    client = GymClient(gym.subdomain)
    client.force_login(user)
    return client


def export(client: GymClient, query: str = "") -> tuple[int, dict[str, str], bytes]:
    """GET the export and read its stream the way the server does, chunk by chunk."""
    response = client.get(f"/clients/export.csv{query}")
    if not response.streaming:
        return response.status_code, dict(response.headers), response.content
    # A synchronous iterator: the WSGI handler streams it (an async one would be collected
    # into memory first).
    assert not response.is_async
    return response.status_code, dict(response.headers), b"".join(response.streaming_content)


def rows_of(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def book(gym_a, staff):  # type: ignore[no-untyped-def]
    """A few clients, two of them coached by Tina."""
    owner, tina = staff["owner"], staff["trainer"]
    with tenant_context(gym_a):
        ann = crm_services.client_create(
            actor=owner,
            first_name="Ann",
            last_name="Able",
            email="ann@example.com",
            phone="+44 7700 900001",
            tags=["VIP"],
            joined_on=date(2023, 1, 10),
            health_notes="Asthma; carries an inhaler.",
            goals="Run 10k",
        )
        bob = crm_services.client_create(
            actor=owner,
            first_name='=HYPERLINK("http://evil.example")',
            last_name="Baker",
            email="bob@example.com",
            status=ClientStatus.TRIAL,
            joined_on=date(2024, 6, 1),
        )
        cat = crm_services.client_create(
            actor=owner,
            first_name="Cat",
            last_name="Cole",
            email="cat@example.com",
            status=ClientStatus.CHURNED,
            joined_on=date(2022, 3, 3),
            tags=["vip", "evening"],
        )
        crm_services.assignment_create(actor=owner, client=ann, trainer=tina, is_primary=True)
        crm_services.assignment_create(actor=owner, client=bob, trainer=tina)
    return {"ann": ann, "bob": bob, "cat": cat}


@pytest.fixture
def owner_client(gym_a, staff) -> GymClient:
    with tenant_context(gym_a):
        activate_totp(staff["owner"])
    return signed_in(gym_a, staff["owner"])


def test_owners_without_two_factor_are_sent_to_set_it_up(gym_a, staff):
    status, headers, _body = export(signed_in(gym_a, staff["manager"]))
    assert status == 302
    assert headers["Location"].startswith("/accounts/2fa/totp/activate/")


def test_the_csv_holds_the_clients_without_health_data(gym_a, staff, book, owner_client):
    status, headers, body = export(owner_client)
    assert status == 200
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"].startswith('attachment; filename="clients-')
    assert body.startswith("\ufeff".encode())  # Excel opens it as UTF-8
    rows = rows_of(body)
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [row["last_name"] for row in rows] == ["Able", "Baker", "Cole"]
    ann = rows[0]
    assert ann["email"] == "ann@example.com"
    assert ann["tags"] == "vip"
    assert ann["joined_on"] == "2023-01-10"
    assert (ann["primary_trainer"], ann["trainers"]) == ("Tina Trainer", "Tina Trainer")
    assert "Asthma" not in body.decode()
    assert "health" not in body.decode()
    # Spreadsheets run cells starting with = + - @ as formulas: the export defuses them.
    assert rows[1]["first_name"] == '\'=HYPERLINK("http://evil.example")'
    assert ann["phone"] == "'+447700900001"
    with tenant_context(gym_a):
        assert AuditEvent.objects.filter(action="clients.exported", actor=staff["owner"]).exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=trial", ["Baker"]),
        ("?tag=VIP", ["Able", "Cole"]),
        ("?search=cole", ["Cole"]),
        ("?search=example.com&tag=vip&status=churned", ["Cole"]),
        ("?joined_after=2023-01-01", ["Able", "Baker"]),
        ("?joined_before=2023-01-10", ["Able", "Cole"]),
        ("?joined_after=2023-01-11&joined_before=2024-12-31", ["Baker"]),
        ("?status=&search=&tag=", ["Able", "Baker", "Cole"]),
    ],
)
def test_the_list_filters_apply(book, owner_client, query, expected):
    _status, _headers, body = export(owner_client, query)
    assert [row["last_name"] for row in rows_of(body)] == expected


def test_the_trainer_filter(book, staff, owner_client):
    _status, _headers, body = export(owner_client, f"?trainer={staff['trainer'].pk}")
    assert [row["last_name"] for row in rows_of(body)] == ["Able", "Baker"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?status=gold", "status"),
        ("?trainer=tina", "trainer"),
        ("?joined_after=01/02/2023", "joined_after"),
        ("?joined_after=2024-01-01&joined_before=2023-01-01", "joined_before"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(book, owner_client, query, field):
    status, _headers, body = export(owner_client, query)
    assert status == 400
    assert body.decode().startswith(f"{field}: ")


def test_a_trainer_exports_only_their_own_clients(gym_a, book, staff):
    status, _headers, body = export(signed_in(gym_a, staff["trainer"].user))
    assert status == 200
    assert [row["last_name"] for row in rows_of(body)] == ["Able", "Baker"]


def test_clients_and_anonymous_visitors_get_nothing(gym_a, staff, client_a):
    assert export(signed_in(gym_a, staff["client"]))[0] == 403
    status, headers, _body = export(client_a)
    assert status == 302
    assert headers["Location"].startswith("/accounts/login/")


def test_gym_a_clients_are_not_in_gym_b_export(gym_b, owner_b, book):
    with tenant_context(gym_b):
        activate_totp(owner_b)
    _status, _headers, body = export(signed_in(gym_b, owner_b))
    assert rows_of(body) == []


def test_the_query_count_does_not_grow_with_the_clients(
    gym_a, staff, book, owner_client, django_assert_max_num_queries
):
    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            status, _headers, body = export(owner_client)
        assert status == 200
        return len(captured), len(rows_of(body))

    queries()  # the first request of a session looks a few things up once
    few, count = queries()
    assert count == 3
    with tenant_context(gym_a):
        for number in range(60):
            client = crm_services.client_create(
                actor=staff["owner"], first_name=f"Extra{number}", email=f"x{number}@example.com"
            )
            crm_services.assignment_create(
                actor=staff["owner"], client=client, trainer=staff["trainer"]
            )
    with django_assert_max_num_queries(few):
        many, count = queries()
    assert count == 63
    assert many == few


def test_the_export_imports_back_without_duplicates(
    gym_a, staff, book, owner_client, django_capture_on_commit_callbacks
):
    _status, _headers, body = export(owner_client)
    with tenant_context(gym_a):
        job = services.import_job_create(actor=staff["owner"], upload=csv_file(body))
        assert job.date_order == "ymd"
        job = services.import_job_preview(
            actor=staff["owner"], job=job, mapping=job.column_mapping, date_order=job.date_order
        )
        assert job.report["counts"] == {
            "total": 3,
            "create": 0,
            "update": 0,
            "skip": 3,
            "error": 0,
        }
        with django_capture_on_commit_callbacks(execute=True):
            services.import_job_start(actor=staff["owner"], job=job)
        job.refresh_from_db()
        assert job.status == ImportJobStatus.DONE
        assert Client.objects.count() == 3
        # The defused values came back as they were.
        assert Client.objects.get(last_name="Able").phone == "+447700900001"


def test_batches_follow_the_list_order_even_when_names_tie(
    gym_a, staff, book, owner_client, monkeypatch
):
    from apps.imports import exports

    monkeypatch.setattr(exports, "BATCH_SIZE", 2)
    with tenant_context(gym_a):
        twins = [
            crm_services.client_create(actor=staff["owner"], first_name="Sam", last_name="Same")
            for _ in range(5)
        ]
    _status, _headers, body = export(owner_client)
    rows = rows_of(body)
    assert [row["last_name"] for row in rows] == ["Able", "Baker", "Cole", *["Same"] * 5]
    assert [int(row["id"]) for row in rows[3:]] == [twin.pk for twin in twins]
