"""The audit log page, its CSV export and the admin: owners and managers read, nobody edits,
each gym sees only its own events."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from tests.conftest import ALPHA, BRAVO, activate_totp, make_user


def signed_in(gym, user) -> Client:  # type: ignore[no-untyped-def]
    client = Client(HTTP_HOST=f"{gym.subdomain}.localhost")
    with tenant_context(gym):
        client.force_login(user)
    return client


def record(action: str, **kwargs) -> AuditEvent:  # type: ignore[no-untyped-def]
    return audit_record(action=action, **kwargs)


def rows_of(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode())))


def export(client: Client, query: str = "") -> tuple[int, dict[str, str], bytes]:
    """GET the export and read its stream the way the server does, chunk by chunk."""
    response = client.get(f"/audit/export.csv{query}")
    if not response.streaming:
        return response.status_code, dict(response.headers), response.content
    # A synchronous iterator: the WSGI handler streams it (an async one would be collected
    # into memory first).
    assert not response.is_async
    return response.status_code, dict(response.headers), b"".join(response.streaming_content)


@pytest.fixture
def owner_client(gym_a, owner_a) -> Client:
    return signed_in(gym_a, owner_a)


class TestAccess:
    def test_owner_and_manager_read_the_log(self, gym_a, owner_client):
        with tenant_context(gym_a):
            manager = make_user(Role.MANAGER, "manager@alpha.example")
            record("test.visible", object_type="accounts.user", object_id="42")
        response = owner_client.get("/audit/")
        assert response.status_code == 200
        assert "test.visible" in response.content.decode()
        assert signed_in(gym_a, manager).get("/audit/").status_code == 200

    @pytest.mark.parametrize("role", [Role.TRAINER, Role.FRONT_DESK, Role.CLIENT])
    def test_other_roles_are_refused(self, gym_a, role):
        with tenant_context(gym_a):
            user = make_user(role, f"{role}@alpha.example")
        client = signed_in(gym_a, user)
        assert client.get("/audit/").status_code == 403
        assert client.get("/audit/export.csv").status_code == 403

    def test_anonymous_visitors_go_to_the_login_page(self, client_a):
        for path in ("/audit/", "/audit/export.csv"):
            response = client_a.get(path)
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")

    def test_gym_a_events_are_not_shown_on_gym_b(self, gym_a, gym_b, owner_a, owner_b):
        with tenant_context(gym_a):
            record("test.only_in_alpha")
        with tenant_context(gym_b):
            record("test.only_in_bravo")
        page_b = signed_in(gym_b, owner_b).get("/audit/").content.decode()
        assert "test.only_in_bravo" in page_b
        assert "test.only_in_alpha" not in page_b
        assert ALPHA.owner_email not in page_b
        # Gym A's session means nothing on gym B's host.
        intruder = Client(HTTP_HOST=BRAVO.host)
        intruder.cookies = signed_in(gym_a, owner_a).cookies
        assert intruder.get("/audit/").status_code == 302


class TestFilters:
    @pytest.fixture
    def log(self, in_gym_a, owner_a):  # type: ignore[no-untyped-def]
        trainer = make_user(Role.TRAINER, "coach@alpha.example")
        record("user.role_changed", actor=owner_a, obj=trainer)
        record("auth.login", actor=trainer, obj=trainer)
        record("auth.login_failed", actor_email="mallory@evil.example")
        return trainer

    def listed(self, client: Client, query: str) -> list[str]:
        response = client.get(f"/audit/?{query}")
        assert response.status_code == 200
        return [(e.action, e.actor_email) for e in response.context["page"]]

    def test_each_filter(self, log, owner_client, owner_a):
        connection.set_schema_to_public()
        # The owner's own sign-in (owner_client) is in the log too.
        assert self.listed(owner_client, "action=auth.login") == [
            ("auth.login", owner_a.email),
            ("auth.login", log.email),
        ]
        assert self.listed(owner_client, "action=auth.login&actor=coach") == [
            ("auth.login", log.email)
        ]
        assert self.listed(owner_client, "actor=EVIL") == [
            ("auth.login_failed", "mallory@evil.example")
        ]
        assert self.listed(owner_client, f"object_type=accounts.user&object_id={log.pk}") == [
            ("auth.login", log.email),
            ("user.role_changed", owner_a.email),
        ]

    def test_dates_are_whole_days(self, log, owner_client):
        connection.set_schema_to_public()
        today = timezone.now().date()
        tomorrow = today + datetime.timedelta(days=1)
        yesterday = today - datetime.timedelta(days=1)
        assert len(self.listed(owner_client, f"date_from={today}&date_to={today}&actor=a")) >= 3
        assert self.listed(owner_client, f"date_from={tomorrow}") == []
        assert self.listed(owner_client, f"date_to={yesterday}") == []

    def test_bad_input_is_named_and_ignored(self, log, owner_client):
        connection.set_schema_to_public()
        response = owner_client.get("/audit/?date_from=not-a-date&date_to=2020-01-01")
        assert response.status_code == 200
        assert "date_from" in response.context["form"].errors
        response = owner_client.get("/audit/?date_from=2030-01-02&date_to=2030-01-01")
        assert "date_to" in response.context["form"].errors


class TestPagination:
    def test_fifty_per_page_in_a_constant_number_of_queries(
        self, gym_a, owner_a, owner_client, django_assert_max_num_queries
    ):
        with tenant_context(gym_a):
            record("test.first", actor=owner_a)
        connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as one_row:
            assert owner_client.get("/audit/?action=test.first").status_code == 200

        with tenant_context(gym_a):
            users = [make_user(Role.CLIENT, f"member{n}@alpha.example") for n in range(5)]
            for n in range(60):
                record("test.bulk", actor=users[n % 5], object_type="x", object_id=str(n))
        connection.set_schema_to_public()
        with django_assert_max_num_queries(len(one_row)):
            response = owner_client.get("/audit/?action=test.bulk")
        page = response.context["page"]
        assert len(page.object_list) == 50
        assert page.paginator.count == 60
        second = owner_client.get("/audit/?action=test.bulk&page=2")
        assert len(second.context["page"].object_list) == 10
        assert "action=test.bulk&amp;page=1" in second.content.decode()


class TestExport:
    def test_owner_without_mfa_is_sent_to_set_it_up(self, owner_client):
        status, headers, _body = export(owner_client)
        assert status == 302
        assert headers["Location"].startswith("/accounts/2fa/totp/activate/")

    def test_csv_holds_the_filtered_events(self, gym_a, owner_a, owner_client):
        with tenant_context(gym_a):
            activate_totp(owner_a)
            record(
                "test.exported",
                actor=owner_a,
                object_type="accounts.user",
                object_id="7",
                changes={"role": {"before": "client", "after": "trainer"}},
            )
            record("test.exported", actor_email='=HYPERLINK("http://evil")')
            record("test.not_exported")
        status, headers, body = export(owner_client, "?action=test.exported")
        assert status == 200
        assert headers["Content-Type"] == "text/csv; charset=utf-8"
        assert headers["Content-Disposition"].startswith('attachment; filename="audit-alpha-')
        rows = rows_of(body)
        assert [row["action"] for row in rows] == ["test.exported", "test.exported"]
        # A spreadsheet would run this as a formula; the export defuses it.
        assert rows[0]["actor_email"] == '\'=HYPERLINK("http://evil")'
        assert rows[1]["actor_email"] == owner_a.email
        assert rows[1]["changes"] == '{"role": {"after": "trainer", "before": "client"}}'
        assert rows[1]["created_at"].endswith("+00:00")
        with tenant_context(gym_a):
            exported = AuditEvent.objects.get(action="audit.exported")
        assert exported.actor == owner_a
        assert exported.changes["filters"]["after"] == {"action": "test.exported"}

    def test_large_exports_arrive_in_batches(self, gym_a, owner_a, owner_client, monkeypatch):
        from apps.audit import views

        monkeypatch.setattr(views, "EXPORT_BATCH_SIZE", 7)
        with tenant_context(gym_a):
            activate_totp(owner_a)
            for n in range(30):
                record("test.batch", object_type="x", object_id=str(n))
        status, _headers, body = export(owner_client, "?action=test.batch")
        assert status == 200
        ids = [row["object_id"] for row in rows_of(body)]
        # Newest first, each exactly once across the batch boundaries.
        assert ids == [str(n) for n in reversed(range(30))]


class TestAdmin:
    @pytest.fixture
    def admin_client(self, gym_a, owner_a) -> Client:
        with tenant_context(gym_a):
            activate_totp(owner_a)  # the back office requires it for owners
        return signed_in(gym_a, owner_a)

    def test_admin_lists_and_shows_but_never_edits(self, gym_a, admin_client):
        with tenant_context(gym_a):
            event = record("test.in_admin", object_type="x", object_id="1")
        listing = admin_client.get("/admin/audit/auditevent/?action=test.in_admin")
        assert listing.status_code == 200
        assert "test.in_admin" in listing.content.decode()
        assert admin_client.get("/admin/audit/auditevent/?q=in_admin").status_code == 200
        year = event.created_at.year
        assert (
            admin_client.get(f"/admin/audit/auditevent/?created_at__year={year}").status_code == 200
        )

        detail = admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/")
        assert detail.status_code == 200
        assert 'name="_save"' not in detail.content.decode()
        assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
        assert (
            admin_client.post(
                f"/admin/audit/auditevent/{event.pk}/change/", {"action": "forged"}
            ).status_code
            == 403
        )
        assert (
            admin_client.post(
                f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}
            ).status_code
            == 403
        )
        response = admin_client.post(
            "/admin/audit/auditevent/",
            {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
        )
        assert response.status_code in (200, 302)
        with tenant_context(gym_a):
            assert AuditEvent.objects.get(pk=event.pk).action == "test.in_admin"
