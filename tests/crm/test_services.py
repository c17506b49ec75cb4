"""CRM services and selectors, role by role."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.accounts.services import invitation_accept, invitation_create
from apps.audit.models import AuditEvent
from apps.crm import selectors, services
from apps.crm.models import Assignment, Client, ClientStatus, LeadStatus, NoteKind, Trainer
from tests.conftest import PASSWORD, make_user


@pytest.fixture
def people(in_gym_a, owner_a):  # type: ignore[no-untyped-def]
    manager = make_user(Role.MANAGER, "manager@alpha.example")
    desk = make_user(Role.FRONT_DESK, "desk@alpha.example")
    tina = services.trainer_create(
        actor=owner_a, email="tina@alpha.example", first_name="Tina", last_name="Trainer"
    )
    tom = services.trainer_create(
        actor=owner_a, email="tom@alpha.example", first_name="Tom", last_name="Trainer"
    )
    ann = services.client_create(
        actor=owner_a,
        first_name="Ann",
        last_name="Able",
        email="Ann@Example.com",
        phone="+44 7700 900001",
        health_notes="Asthma; carries an inhaler.",
        tags=["VIP", "morning "],
    )
    bob = services.client_create(actor=owner_a, first_name="Bob", email="bob@example.com")
    services.assignment_create(actor=owner_a, client=ann, trainer=tina)
    return {
        "owner": owner_a,
        "manager": manager,
        "desk": desk,
        "tina": tina,
        "tom": tom,
        "ann": ann,
        "bob": bob,
    }


def test_client_create_normalises_and_audits(people):
    ann = people["ann"]
    assert ann.email == "ann@example.com"
    assert ann.tags == ["morning", "vip"]
    event = AuditEvent.objects.get(action="client.created", object_id=str(ann.pk))
    assert event.changes["health_notes"]["after"] == "***"  # health data masked in the log


def test_duplicate_email_is_a_field_error(people):
    with pytest.raises(ValidationError) as excinfo:
        services.client_create(actor=people["owner"], first_name="Ann2", email="ANN@example.com")
    assert "email" in excinfo.value.message_dict


def test_bad_input_names_the_field(people):
    with pytest.raises(ValidationError) as excinfo:
        services.client_create(actor=people["owner"], first_name="", email="nope", status="zombie")
    assert {"first_name", "email", "status"} <= set(excinfo.value.message_dict)


def test_health_notes_are_encrypted_at_rest(people):
    with connection.cursor() as cursor:
        cursor.execute("SELECT health_notes FROM crm_client WHERE id = %s", [people["ann"].pk])
        raw = cursor.fetchone()[0]
    assert "Asthma" not in raw
    assert Client.objects.get(pk=people["ann"].pk).health_notes.startswith("Asthma")


def test_trainers_see_only_their_assigned_clients(people):
    tina_user, tom_user = people["tina"].user, people["tom"].user
    assert list(selectors.client_list(viewer=tina_user)) == [people["ann"]]
    assert list(selectors.client_list(viewer=tom_user)) == []
    with pytest.raises(Client.DoesNotExist):
        selectors.client_get(viewer=tom_user, pk=people["ann"].pk)
    with pytest.raises(PermissionDenied):
        services.client_update(actor=tom_user, client=people["ann"], goals="x")


def test_front_desk_sees_contacts_but_no_health_data_or_notes(people):
    desk, ann = people["desk"], people["ann"]
    services.note_create(
        actor=people["tina"].user, client=ann, kind=NoteKind.HEALTH, body="Knee pain"
    )
    assert set(selectors.client_list(viewer=desk)) == {ann, people["bob"]}
    assert not selectors.can_see_health_data(viewer=desk, client=ann)
    assert list(selectors.note_list(viewer=desk)) == []
    with pytest.raises(ValidationError) as excinfo:
        services.client_update(actor=desk, client=ann, health_notes="changed")
    assert "health_notes" in excinfo.value.message_dict
    services.client_update(actor=desk, client=ann, phone="+44 7700 900999")
    with pytest.raises(PermissionDenied):
        services.note_create(actor=desk, client=ann, kind=NoteKind.GENERAL, body="hi")


def test_health_notes_only_for_assigned_trainers_and_management(people):
    ann = people["ann"]
    note = services.note_create(
        actor=people["tina"].user, client=ann, kind=NoteKind.HEALTH, body="Knee pain"
    )
    assert list(selectors.note_list(viewer=people["tina"].user)) == [note]
    assert list(selectors.note_list(viewer=people["manager"])) == [note]
    assert list(selectors.note_list(viewer=people["tom"].user)) == []
    # Once Tina is unassigned she no longer sees Ann or her notes.
    assignment = Assignment.objects.get(client=ann, trainer=people["tina"])
    services.assignment_end(actor=people["manager"], assignment=assignment)
    assert list(selectors.note_list(viewer=people["tina"].user)) == []
    assert list(selectors.client_list(viewer=people["tina"].user)) == []


def test_clients_see_only_themselves(people, owner_a):
    ann = people["ann"]
    user = make_user(Role.CLIENT, "ann@example.com")
    services.profile_ensure_for_role(user=user)
    ann.refresh_from_db()
    assert ann.user == user  # the existing record is linked by email, not duplicated
    assert list(selectors.client_list(viewer=user)) == [ann]
    services.client_update(actor=user, client=ann, goals="Run 10k")
    with pytest.raises(ValidationError):
        services.client_update(actor=user, client=ann, status=ClientStatus.CHURNED)
    with pytest.raises(PermissionDenied):
        services.client_update(actor=user, client=people["bob"], goals="hacked")


def test_primary_trainer_changes_keep_history(people):
    owner, ann, tina, tom = people["owner"], people["ann"], people["tina"], people["tom"]
    first = Assignment.objects.get(client=ann, trainer=tina)
    assert first.is_primary  # her only trainer
    services.assignment_create(actor=owner, client=ann, trainer=tom, is_primary=True)
    current = {
        a.trainer_id: a.is_primary for a in Assignment.objects.filter(client=ann, ends_on=None)
    }
    assert current == {tina.pk: False, tom.pk: True}
    tom_assignment = Assignment.objects.get(client=ann, trainer=tom)
    services.assignment_end(actor=owner, assignment=tom_assignment)
    first.refresh_from_db()
    assert first.is_primary  # the remaining trainer becomes primary
    assert Assignment.objects.filter(client=ann).count() == 2  # the ended one is history
    # Assigning twice is harmless.
    again = services.assignment_create(actor=owner, client=ann, trainer=tina)
    assert again.pk == first.pk


def test_only_management_assigns(people):
    with pytest.raises(PermissionDenied):
        services.assignment_create(
            actor=people["desk"], client=people["bob"], trainer=people["tina"]
        )
    with pytest.raises(PermissionDenied):
        services.assignment_create(
            actor=people["tina"].user, client=people["bob"], trainer=people["tom"]
        )


def test_lead_capture_and_convert_is_idempotent(people):
    lead = services.lead_capture(
        first_name="Lena", email="LENA@example.com", message="Lose weight", marketing_consent=True
    )
    with pytest.raises(PermissionDenied):  # front desk converts, management assigns
        services.lead_convert(actor=people["desk"], lead=lead, trainer=people["tom"])
    client = services.lead_convert(actor=people["manager"], lead=lead, trainer=people["tom"])
    assert client.status == ClientStatus.TRIAL
    assert client.email == "lena@example.com"
    assert client.goals == "Lose weight"
    assert client.consents.get().granted
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert services.lead_convert(actor=people["desk"], lead=lead).pk == client.pk
    assert Client.objects.filter(email="lena@example.com").count() == 1
    assert selectors.client_list(viewer=people["tom"].user).get() == client


def test_lead_needs_a_way_to_reach_them(in_gym_a):
    with pytest.raises(ValidationError) as excinfo:
        services.lead_capture(first_name="Ghost")
    assert "email" in excinfo.value.message_dict


def test_certifications_expiring_within_30_days(people):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    tina = people["tina"]
    soon = services.certification_create(
        actor=people["owner"], trainer=tina, name="First aid", expires_on=today + timedelta(days=10)
    )
    services.certification_create(
        actor=people["owner"],
        trainer=tina,
        name="Kettlebell",
        expires_on=today + timedelta(days=90),
    )
    assert list(selectors.certifications_expiring()) == [soon]


def test_invited_trainer_gets_a_trainer_profile(people, owner_a):
    _, token = invitation_create(actor=owner_a, email="newcoach@alpha.example", role=Role.TRAINER)
    user = invitation_accept(token=token, password=PASSWORD, first_name="New")
    assert Trainer.objects.filter(user=user).exists()


def test_gym_b_sees_nothing_of_gym_a(people, gym_b):
    with tenant_context(gym_b):
        assert not Client.objects.filter(email="ann@example.com").exists()
        assert not Trainer.objects.exists()
