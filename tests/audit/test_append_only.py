"""The database itself keeps the audit log append-only, in every schema."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context, schema_exists, tenant_context

from apps.accounts.models import Role, User
from apps.audit.models import ERASED_ACTOR_EMAIL, AuditEvent
from apps.audit.services import audit_record
from apps.tenants.models import Gym
from apps.tenants.services import gym_create
from tests.conftest import PASSWORD, make_user


def assert_refused(statement) -> None:  # type: ignore[no-untyped-def]
    """Run `statement` in a savepoint and expect the database to refuse it."""
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        statement()


def sql(query: str, params: list | None = None):  # type: ignore[no-untyped-def]
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(query, params or [])

    return run


@pytest.fixture
def event(in_gym_a, owner_a) -> AuditEvent:
    return audit_record(action="test.happened", actor=owner_a, obj=owner_a)


def test_raw_sql_cannot_update_delete_or_truncate(event):
    assert_refused(sql("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [event.pk]))
    assert_refused(sql("DELETE FROM audit_auditevent WHERE id = %s", [event.pk]))
    # Run the deferred foreign-key checks of this test's inserts now, else PostgreSQL refuses
    # TRUNCATE for that reason before the trigger is asked.
    sql("SET CONSTRAINTS ALL IMMEDIATE")()
    assert_refused(sql("TRUNCATE audit_auditevent"))
    assert_refused(sql("TRUNCATE accounts_user, audit_auditevent CASCADE"))
    event.refresh_from_db()
    assert event.action == "test.happened"


def test_the_orm_cannot_update_or_delete(event):
    events = AuditEvent.objects.filter(pk=event.pk)
    assert_refused(lambda: events.update(action="forged"))
    assert_refused(events.delete)
    assert_refused(event.delete)
    event.action = "forged"
    assert_refused(event.save)
    assert AuditEvent.objects.get(pk=event.pk).action == "test.happened"


def test_the_actor_can_only_be_forgotten(event, owner_a):
    other = make_user(Role.MANAGER, "other@alpha.example")
    events = AuditEvent.objects.filter(pk=event.pk)
    assert_refused(lambda: events.update(actor=other))
    assert_refused(lambda: events.update(actor_email="someone-else@alpha.example"))
    assert_refused(lambda: events.update(actor=None, action="forged"))
    # Erasure (apps.privacy) may put the placeholder in place of the email.
    events.update(actor_email=ERASED_ACTOR_EMAIL)
    assert AuditEvent.objects.get(pk=event.pk).actor_email == ERASED_ACTOR_EMAIL


def test_deleting_a_user_keeps_their_events(in_gym_a):
    user = make_user(Role.TRAINER, "leaver@alpha.example")
    event = audit_record(action="test.happened", actor=user)
    User.objects.filter(pk=user.pk).delete()
    event.refresh_from_db()
    assert event.actor is None
    assert event.actor_email == "leaver@alpha.example"
    assert event.actor_role == Role.TRAINER


@pytest.mark.parametrize("schema", ["public", settings.TENANT_BASE_SCHEMA, "bravo"])
def test_every_schema_has_the_guard(db, schema):
    with schema_context(schema):
        event = audit_record(action="test.happened")
        assert_refused(sql("DELETE FROM audit_auditevent WHERE id = %s", [event.pk]))
        with connection.cursor() as cursor:
            # The trigger calls the schema's own function, not public's.
            cursor.execute(
                "SELECT pn.nspname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_proc p ON p.oid = t.tgfoid "
                "JOIN pg_namespace pn ON pn.oid = p.pronamespace "
                "WHERE n.nspname = %s AND c.relname = 'audit_auditevent' AND NOT t.tgisinternal",
                [schema],
            )
            assert [row[0] for row in cursor.fetchall()] == [schema, schema]


def test_a_new_gym_gets_the_guard_and_can_still_be_deleted(db):
    gym = gym_create(
        name="Short Lived",
        subdomain="short-lived",
        owner_email="owner@short.example",
        owner_password=PASSWORD,
    )
    with tenant_context(gym):
        event = audit_record(action="test.happened")
        assert_refused(lambda: AuditEvent.objects.filter(pk=event.pk).delete())
    connection.set_schema_to_public()
    # In one transaction, PostgreSQL refuses to drop a table whose deferred foreign-key checks
    # are still pending; deleting a gym happens long after its last event was committed.
    sql("SET CONSTRAINTS ALL IMMEDIATE")()
    Gym.objects.get(pk=gym.pk).delete()
    assert not schema_exists("short_lived")
