"""Creating a gym, by each of the three ways, and refusing bad input with nothing left behind."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, NotSupportedError, connection, transaction
from django_tenants.utils import schema_exists, tenant_context

from apps.accounts.models import Role, User
from apps.tenants.management.commands.migrate import schemas_with_pending_migrations
from apps.tenants.models import Domain, Gym
from apps.tenants.services import gym_create
from tests.conftest import PASSWORD, login

INVALID_SUBDOMAINS = [
    ("www", "reserved"),
    ("admin", "reserved"),
    ("api", "reserved"),
    ("public", "reserved"),
    ("static", "reserved"),
    ("UpperCase", "lower-case"),
    ("a" * 64, "at most 63"),
    ("alpha", "already taken"),
    ("-leading", "start and end"),
    ("under_score", "Use lower-case letters, digits and hyphens"),
    ("", "Choose a subdomain"),
]


def state() -> tuple[int, int, set[str]]:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        schemas = {row[0] for row in cursor.fetchall()}
    return Gym.objects.count(), Domain.objects.count(), schemas


def assert_owner_can_log_in(client, email: str) -> None:  # type: ignore[no-untyped-def]
    response = login(client, email)
    assert response.status_code == 302, response.content
    assert client.get("/").status_code == 200


class TestSignupPage:
    def test_new_gym_owner_arrives_logged_in_on_the_gym_host(self, public_client):
        response = public_client.get("/signup/")
        assert response.status_code == 200

        response = public_client.post(
            "/signup/",
            {
                "name": "Iron Temple",
                "subdomain": "iron-temple",
                "owner_email": "Owner@IronTemple.example",
                "owner_password": PASSWORD,
            },
        )
        assert response.status_code == 302
        location = response["Location"]
        assert location.startswith("http://iron-temple.localhost/accounts/handoff/?token=")

        gym = Gym.objects.get(subdomain="iron-temple")
        assert gym.schema_name == "iron_temple"
        assert Domain.objects.filter(tenant=gym, domain="iron-temple.localhost").exists()

        gym_client = type(public_client)(HTTP_HOST="iron-temple.localhost")
        response = gym_client.get(location.split("localhost", 1)[1])
        assert response.status_code == 302
        assert response["Location"] == "/"
        dashboard = gym_client.get("/")
        assert dashboard.status_code == 200
        assert "Iron Temple" in dashboard.content.decode()

        # The hand-off link works once only.
        again = type(public_client)(HTTP_HOST="iron-temple.localhost")
        assert again.get(location.split("localhost", 1)[1]).status_code == 400

    @pytest.mark.parametrize(("subdomain", "message"), INVALID_SUBDOMAINS)
    def test_invalid_subdomain_is_a_form_error_and_creates_nothing(
        self, public_client, subdomain, message
    ):
        before = state()
        response = public_client.post(
            "/signup/",
            {
                "name": "Bad",
                "subdomain": subdomain,
                "owner_email": "o@bad.example",
                "owner_password": PASSWORD,
            },
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert "subdomain" in errors
        if subdomain:  # an empty field gets the form's own "required" message
            assert message in " ".join(errors["subdomain"])
        assert state() == before

    def test_weak_password_and_bad_email_are_named(self, public_client):
        response = public_client.post(
            "/signup/",
            {"name": "X", "subdomain": "xgym", "owner_email": "nope", "owner_password": "short"},
        )
        errors = response.context["form"].errors
        assert set(errors) == {"owner_email", "owner_password"}


class TestApi:
    def test_create_gym_returns_its_url_and_the_owner_can_log_in(self, public_api_client):
        response = public_api_client.post(
            "/api/v1/gyms/",
            {
                "name": "Api Gym",
                "subdomain": "api-gym",
                "owner_email": "owner@apigym.example",
                "owner_password": PASSWORD,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["url"] == "http://api-gym.localhost/"
        assert response.json()["subdomain"] == "api-gym"
        assert "owner_password" not in response.json()

        from django.test import Client

        assert_owner_can_log_in(Client(HTTP_HOST="api-gym.localhost"), "owner@apigym.example")

    @pytest.mark.parametrize(("subdomain", "message"), INVALID_SUBDOMAINS)
    def test_invalid_subdomain_is_a_400_naming_the_field(
        self, public_api_client, subdomain, message
    ):
        before = state()
        response = public_api_client.post(
            "/api/v1/gyms/",
            {
                "name": "Bad",
                "subdomain": subdomain,
                "owner_email": "o@bad.example",
                "owner_password": PASSWORD,
            },
            format="json",
        )
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 400
        assert "subdomain" in body["errors"], body
        if subdomain:  # an empty string is refused by the serializer's own "blank" rule
            assert message in " ".join(body["errors"]["subdomain"])
        assert state() == before

    def test_missing_fields_are_each_named(self, public_api_client):
        response = public_api_client.post("/api/v1/gyms/", {}, format="json")
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {
            "name",
            "subdomain",
            "owner_email",
            "owner_password",
        }


class TestCommand:
    def test_create_gym_command(self, db):
        call_command(
            "create_gym",
            "cmd-gym",
            name="Command Gym",
            owner_email="owner@cmd.example",
            owner_password=PASSWORD,
            interactive=False,
        )
        gym = Gym.objects.get(subdomain="cmd-gym")
        with tenant_context(gym):
            owner = User.objects.get(email="owner@cmd.example")
            assert owner.role == Role.OWNER
            assert owner.is_staff
        from django.test import Client

        assert_owner_can_log_in(Client(HTTP_HOST="cmd-gym.localhost"), "owner@cmd.example")

    @pytest.mark.parametrize(
        ("subdomain", "message"),
        # A leading hyphen would be read as an option by any command line.
        [case for case in INVALID_SUBDOMAINS if case[0] and not case[0].startswith("-")],
    )
    def test_invalid_subdomain_is_refused(self, db, subdomain, message):
        before = state()
        with pytest.raises(CommandError, match="subdomain:") as excinfo:
            call_command(
                "create_gym",
                subdomain,
                name="Bad",
                owner_email="o@bad.example",
                owner_password=PASSWORD,
                interactive=False,
            )
        assert message in str(excinfo.value)
        assert state() == before


class TestAllOrNothing:
    def test_failure_after_the_schema_exists_leaves_nothing_behind(self, db, monkeypatch):
        before = state()

        def fail(*args, **kwargs):
            raise RuntimeError("mail server exploded")

        # The last step of gym_create: by then the schema, domain and owner exist.
        monkeypatch.setattr(EmailAddress.objects, "create", fail)
        with pytest.raises(RuntimeError):
            gym_create(
                name="Doomed",
                subdomain="doomed",
                owner_email="o@doomed.example",
                owner_password=PASSWORD,
            )
        assert state() == before
        assert not schema_exists("doomed")

    def test_service_rejects_bad_input_before_writing(self, db):
        with pytest.raises(ValidationError) as excinfo:
            gym_create(name="", subdomain="ok-name", owner_email="x", owner_password="1")
        assert set(excinfo.value.message_dict) == {"name", "owner_email", "owner_password"}


def functions_and_triggers(cursor, schema: str) -> tuple[set, set]:  # type: ignore[no-untyped-def]
    """A schema's functions (name, arguments, code) and its triggers (table, name, type, the
    function called, and whether that function is the schema's own)."""
    cursor.execute(
        "SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prosrc "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s",
        [schema],
    )
    functions = set(cursor.fetchall())
    cursor.execute(
        "SELECT c.relname, t.tgname, t.tgtype, t.tgenabled, p.proname, pn.nspname = n.nspname "
        "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace "
        "WHERE n.nspname = %s AND NOT t.tgisinternal",
        [schema],
    )
    return functions, set(cursor.fetchall())


class TestCloning:
    def test_cloned_schema_matches_the_template_and_needs_no_migration(self, gym_a):
        from django.conf import settings

        def catalog(schema: str) -> dict[str, set]:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT table_name, column_name, data_type, is_nullable, is_identity "
                    "FROM information_schema.columns WHERE table_schema = %s",
                    [schema],
                )
                columns = set(cursor.fetchall())
                cursor.execute(
                    "SELECT cl.relname, con.conname, con.contype FROM pg_constraint con "
                    "JOIN pg_class cl ON cl.oid = con.conrelid "
                    "JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = %s",
                    [schema],
                )
                constraints = set(cursor.fetchall())
                # Names, not full definitions: PostgreSQL may print an equal predicate
                # differently once re-parsed.
                cursor.execute(
                    "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = %s",
                    [schema],
                )
                indexes = set(cursor.fetchall())
                functions, triggers = functions_and_triggers(cursor, schema)
            return {
                "columns": columns,
                "constraints": constraints,
                "indexes": indexes,
                "functions": functions,
                "triggers": triggers,
            }

        template = catalog(settings.TENANT_BASE_SCHEMA)
        clone = catalog(gym_a.schema_name)
        assert clone == template
        assert len(template["columns"]) > 100
        # The audit log's append-only guard, at least.
        assert template["functions"]
        assert template["triggers"]
        assert schemas_with_pending_migrations([gym_a.schema_name]) == []

    def test_fast_clone_copies_functions_and_triggers_that_act_on_the_copy(self, db):
        from django.conf import settings

        from apps.tenants.cloning import clone_schema_fast

        template = settings.TENANT_BASE_SCHEMA
        # No fallback here: the fast path itself must handle everything the template holds.
        clone_schema_fast(source=template, destination="clone_probe")
        with connection.cursor() as cursor:
            assert functions_and_triggers(cursor, "clone_probe") == functions_and_triggers(
                cursor, template
            )
            cursor.execute(
                "INSERT INTO clone_probe.audit_auditevent (action, actor_email, actor_role, "
                "object_type, object_id, changes, user_agent, request_id) "
                "VALUES ('probe', '', '', '', '', '{}', '', '') RETURNING id"
            )
            event_id = cursor.fetchone()[0]
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                cursor.execute("DELETE FROM clone_probe.audit_auditevent WHERE id = %s", [event_id])

    def test_fast_clone_copies_the_templates_rows_and_continues_their_ids(self, db):
        from django.conf import settings

        from apps.tenants.cloning import clone_schema_fast
        from apps.training.models import Exercise

        template = settings.TENANT_BASE_SCHEMA
        connection.set_schema(template)
        probe = Exercise.objects.create(
            slug="clone-probe",
            name="Clone probe",
            category="strength",
            primary_muscles=["quads"],
            equipment=["barbell"],
        )
        connection.set_schema_to_public()
        clone_schema_fast(source=template, destination="clone_rows")
        with connection.cursor() as cursor:
            for table in ("training_exercise", "django_migrations"):
                cursor.execute(f"SELECT count(*) FROM {template}.{table}")  # noqa: S608
                expected = cursor.fetchone()[0]
                cursor.execute(f"SELECT count(*) FROM clone_rows.{table}")  # noqa: S608
                assert cursor.fetchone()[0] == expected > 0
        connection.set_schema("clone_rows")
        assert Exercise.objects.get(pk=probe.pk).name == "Clone probe"
        # New rows get ids after the copied ones instead of colliding with them.
        second = Exercise.objects.create(
            slug="clone-probe-2", name="Clone probe 2", category="strength"
        )
        assert second.pk > probe.pk
        connection.set_schema_to_public()

    def test_fast_clone_still_refuses_what_it_cannot_copy(self, db):
        from apps.tenants.cloning import clone_schema_fast

        with connection.cursor() as cursor:
            cursor.execute("CREATE SCHEMA clone_src")
            cursor.execute("CREATE TABLE clone_src.t (id integer)")
            cursor.execute("CREATE VIEW clone_src.v AS SELECT id FROM clone_src.t")
        with pytest.raises(NotSupportedError), transaction.atomic():
            clone_schema_fast(source="clone_src", destination="clone_dst")
        with connection.cursor() as cursor:
            cursor.execute("DROP VIEW clone_src.v")
            # A function whose code names its own schema would still point there once copied.
            cursor.execute(
                "CREATE FUNCTION clone_src.f() RETURNS bigint LANGUAGE sql "
                "AS 'SELECT count(*) FROM clone_src.t'"
            )
        with pytest.raises(NotSupportedError), transaction.atomic():
            clone_schema_fast(source="clone_src", destination="clone_dst")
        assert not schema_exists("clone_dst")

    def test_foreign_keys_point_inside_the_gym(self, gym_a):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT rn.nspname FROM pg_constraint con "
                "JOIN pg_class cl ON cl.oid = con.conrelid "
                "JOIN pg_namespace n ON n.oid = cl.relnamespace "
                "JOIN pg_class rc ON rc.oid = con.confrelid "
                "JOIN pg_namespace rn ON rn.oid = rc.relnamespace "
                "WHERE n.nspname = %s AND con.contype = 'f'",
                [gym_a.schema_name],
            )
            targets = {row[0] for row in cursor.fetchall()}
        # Its own tables, plus contenttypes, which is shared.
        assert targets == {gym_a.schema_name, "public"}
