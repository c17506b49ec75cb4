"""Writing events: who, from where, what changed, with secrets and health data masked."""

from __future__ import annotations

import datetime

import pytest
from django.test import RequestFactory

from apps.accounts.models import Role
from apps.audit.models import AuditEvent
from apps.audit.services import (
    MASK,
    audit_record,
    changes_between,
    mask_changes,
    request_context,
)
from tests.conftest import make_user


def make_request(**meta):  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/", **meta)
    request.request_id = "req-12345678"
    return request


def test_event_records_actor_object_and_request(in_gym_a, owner_a):
    trainer = make_user(Role.TRAINER, "t@alpha.example")
    request = make_request(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Agent/" + "x" * 600)
    with request_context(request):
        event = audit_record(
            action="user.role_changed",
            actor=owner_a,
            obj=trainer,
            changes={"role": {"before": "client", "after": "trainer"}},
        )
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor == owner_a
    assert event.actor_email == owner_a.email
    assert event.actor_role == Role.OWNER
    assert (event.object_type, event.object_id) == ("accounts.user", str(trainer.pk))
    assert event.changes == {"role": {"before": "client", "after": "trainer"}}
    assert event.ip == "203.0.113.7"
    assert len(event.user_agent) == 512
    assert event.request_id == "req-12345678"
    assert event.created_at.utcoffset() == datetime.timedelta(0)


def test_without_request_or_actor_it_is_a_system_event(in_gym_a):
    event = audit_record(action="gym.created", object_type="tenants.gym", object_id="7")
    assert event.actor is None
    assert (event.actor_email, event.ip, event.user_agent, event.request_id) == ("", None, "", "")


@pytest.mark.parametrize(
    "field",
    [
        "password",
        "new_password1",
        "api_token",
        "client_secret",
        "stripe_key",
        "otp_code",
        "recovery_codes",
        "health_notes",
        "notes_health",
        "parq_answers",
    ],
)
def test_secret_and_health_fields_are_masked(in_gym_a, field):
    event = audit_record(
        action="test.changed", changes={field: {"before": "old-value", "after": "new-value"}}
    )
    assert AuditEvent.objects.get(pk=event.pk).changes == {field: {"before": MASK, "after": MASK}}


def test_changes_between_lists_only_what_changed_and_masks():
    before = {"first_name": "Ann", "role": "client", "password": "hash1", "phone": ""}
    after = {"first_name": "Ann", "role": "trainer", "password": "hash2", "time_zone": "UTC"}
    assert changes_between(before, after) == {
        "role": {"before": "client", "after": "trainer"},
        "password": {"before": MASK, "after": MASK},
        "phone": {"before": "", "after": None},
        "time_zone": {"before": None, "after": "UTC"},
    }


def test_values_that_json_cannot_hold_are_stored(in_gym_a, owner_a):
    moment = datetime.datetime(2030, 1, 2, 3, 4, tzinfo=datetime.UTC)
    changes = changes_between(
        {"starts_at": None, "owner": None}, {"starts_at": moment, "owner": owner_a}
    )
    event = audit_record(action="test.changed", changes=changes)
    assert AuditEvent.objects.get(pk=event.pk).changes == {
        "starts_at": {"before": None, "after": "2030-01-02T03:04:00Z"},
        "owner": {"before": None, "after": owner_a.pk},
    }
    assert mask_changes({"token": "abc"}) == {"token": {"before": MASK, "after": MASK}}


def test_forwarded_for_is_ignored_unless_trusted(in_gym_a, settings):
    request = make_request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.9")
    settings.TRUSTED_PROXY_COUNT = 0
    with request_context(request):
        assert audit_record(action="test.ip").ip == "10.0.0.2"
    # The one client address rule (apps.core.client_address): no switch of the audit log's own.
    settings.TRUSTED_PROXY_COUNT = 1
    # The entry our proxy appended, not the one the client made up.
    with request_context(request):
        assert audit_record(action="test.ip").ip == "192.0.2.9"
    bogus = make_request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip")
    with request_context(bogus):
        assert audit_record(action="test.ip").ip is None


def test_services_called_during_a_request_get_its_context(in_gym_a, owner_a):
    """A service that is not handed the request still learns where it came from, and who is
    logged in, through the middleware's context."""
    from django.http import HttpResponse

    from apps.audit.middleware import AuditContextMiddleware
    from apps.audit.services import current_request_context

    written = []

    def view(request):  # type: ignore[no-untyped-def]
        written.append(audit_record(action="test.in_request"))
        return HttpResponse()

    request = make_request(REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="ContextAgent/1.0")
    request.user = owner_a
    AuditContextMiddleware(view)(request)
    event = AuditEvent.objects.get(pk=written[0].pk)
    assert event.actor == owner_a
    assert (event.ip, event.user_agent, event.request_id) == (
        "198.51.100.23",
        "ContextAgent/1.0",
        "req-12345678",
    )
    # Nothing leaks into whatever runs after the request.
    assert current_request_context.get() is None
    assert audit_record(action="test.after").ip is None
