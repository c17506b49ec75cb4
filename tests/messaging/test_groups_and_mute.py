"""Starting a group from the staff inbox (a class's clients, a tag's clients, colleagues only)
within the role rules (a trainer adds only their own clients), and muting a conversation's
reminders from the staff pages and the portal; another gym's ids are 404s or invalid."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.crm.models import Client
from apps.messaging import services
from apps.messaging.models import Conversation, Kind, Participant
from apps.scheduling.models import ClassBooking
from tests.conftest import GymClient
from tests.scheduling.test_policies import make_class

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def browser(crm, role: str) -> GymClient:  # type: ignore[no-untyped-def]
    client = GymClient(crm.gym.subdomain)
    client.force_login(crm.user(role))
    return client


@pytest.fixture
def yoga(crm_a):  # type: ignore[no-untyped-def]
    """Tina's class tomorrow: Ann (hers), Bob (nobody's) and Cara (Tom's) booked, and a
    cancelled booking that does not count."""
    with tenant_context(crm_a.gym):
        occurrence = make_class(crm_a, in_hours=24, name="Sunrise yoga")
        for client in (crm_a.ann, crm_a.bob, crm_a.cara):
            ClassBooking.objects.create(occurrence=occurrence, client=client, status="booked")
        gone = Client.objects.create(first_name="Gone", email="gone@alpha.example")
        ClassBooking.objects.create(occurrence=occurrence, client=gone, status="cancelled")
    connection.set_schema_to_public()
    return occurrence


def _members(crm, pk: int) -> tuple[set[int], set[int]]:  # type: ignore[no-untyped-def]
    with tenant_context(crm.gym):
        rows = Participant.objects.filter(conversation_id=pk)
        return (
            {row.user_id for row in rows if row.user_id},
            {row.client_id for row in rows if row.client_id},
        )


def _thread_pk(answer) -> int:  # type: ignore[no-untyped-def]
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return int(answer["Location"].rstrip("/").rsplit("/", 1)[1])


def test_the_inbox_offers_a_new_group_to_staff_only(crm_a) -> None:
    page = browser(crm_a, "desk").get("/messages/").content.decode()
    assert 'data-testid="new-group"' in page
    assert "/messages/groups/new/" in page
    assert browser(crm_a, "cara").get("/messages/groups/new/").status_code == 403
    portal = browser(crm_a, "cara").get("/portal/messages/").content.decode()
    assert 'data-testid="new-group"' not in portal


def test_a_manager_gathers_a_class_with_a_colleague(crm_a, yoga) -> None:
    manager = browser(crm_a, "manager")
    form = manager.get("/messages/groups/new/").content.decode()
    assert "Sunrise yoga" in form
    assert "Tina Trainer" in form
    answer = manager.post(
        "/messages/groups/new/",
        {
            "title": "Sunrise crew",
            "kind": "class",
            "occurrence": yoga.pk,
            "users": [crm_a.tina.user.pk],
        },
    )
    pk = _thread_pk(answer)
    users, clients = _members(crm_a, pk)
    assert users == {crm_a.manager.pk, crm_a.tina.user.pk}
    assert clients == {crm_a.ann.pk, crm_a.bob.pk, crm_a.cara.pk}
    with tenant_context(crm_a.gym):
        conversation = Conversation.objects.get(pk=pk)
        assert (conversation.kind, conversation.title) == (Kind.CLASS, "Sunrise crew")
    thread = manager.get(f"/messages/{pk}/").content.decode()
    assert "Sunrise crew" in thread
    # Its starter mutes it like any conversation.
    assert manager.post(f"/messages/{pk}/mute/", {"muted": "1"}).status_code == 302
    with tenant_context(crm_a.gym):
        assert Participant.objects.get(conversation_id=pk, user=crm_a.manager).muted


def test_a_trainer_adds_only_their_own_clients(crm_a, yoga) -> None:
    tina = browser(crm_a, "tina")
    answer = tina.post(
        "/messages/groups/new/", {"title": "Yoga", "kind": "class", "occurrence": yoga.pk}
    )
    pk = _thread_pk(answer)
    assert _members(crm_a, pk)[1] == {crm_a.ann.pk}
    page = tina.get(f"/messages/{pk}/").content.decode()
    assert "2 clients of the class are not yours to message and were left out." in page

    # Tom teaches none of Tina's classes: the class is not his to choose.
    tom = browser(crm_a, "tom")
    assert "Sunrise yoga" not in tom.get("/messages/groups/new/").content.decode()
    refused = tom.post(
        "/messages/groups/new/", {"title": "Yoga", "kind": "class", "occurrence": yoga.pk}
    )
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()

    # Tags: only those of Tina's own clients; another client's tag is not a choice.
    with tenant_context(crm_a.gym):
        Client.objects.filter(pk=crm_a.bob.pk).update(tags=["night-owls"])
    form = tina.get("/messages/groups/new/").content.decode()
    assert "morning" in form
    assert "night-owls" not in form
    refused = tina.post(
        "/messages/groups/new/", {"title": "Owls", "kind": "team", "tag": "night-owls"}
    )
    assert refused.status_code == 400
    team = _thread_pk(
        tina.post(
            "/messages/groups/new/", {"title": "Early birds", "kind": "team", "tag": "morning"}
        )
    )
    assert _members(crm_a, team)[1] == {crm_a.ann.pk}


def test_a_class_with_none_of_your_clients_and_other_mistakes_are_field_errors(crm_a, yoga) -> None:
    with tenant_context(crm_a.gym):
        ClassBooking.objects.filter(occurrence=yoga, client=crm_a.ann).delete()
    tina = browser(crm_a, "tina")
    for data, message in (
        ({"title": "Yoga", "kind": "class", "occurrence": yoga.pk}, "Nobody in this class"),
        ({"title": "Yoga", "kind": "class"}, "Choose a class."),
        ({"title": "Team", "kind": "team"}, "Choose a tag."),
        ({"title": "Staff", "kind": "staff"}, "Choose at least one colleague."),
        ({"title": "", "kind": "staff", "users": [crm_a.desk.pk]}, "This field is required."),
        ({"title": "X", "kind": "gym", "users": [crm_a.desk.pk]}, "Select a valid choice"),
        ({"title": "X", "kind": "staff", "users": [crm_a.cara_user.pk]}, "Select a valid choice"),
    ):
        answer = tina.post("/messages/groups/new/", data)
        assert answer.status_code == 400, data
        assert message in answer.content.decode(), data
    with tenant_context(crm_a.gym):
        assert not Conversation.objects.filter(
            kind__in=(Kind.CLASS, Kind.TEAM, Kind.STAFF)
        ).exists()


def test_a_staff_only_group(crm_a) -> None:
    desk = browser(crm_a, "desk")
    pk = _thread_pk(
        desk.post(
            "/messages/groups/new/",
            {"title": "Front of house", "kind": "staff", "users": [crm_a.manager.pk]},
        )
    )
    assert _members(crm_a, pk) == ({crm_a.desk.pk, crm_a.manager.pk}, set())


def test_mute_and_unmute_from_the_staff_pages_and_the_portal(crm_a) -> None:
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_gym(client=crm_a.cara)
        services.post_message(conversation=conversation, sender_user=crm_a.cara_user, body="Hi")
    connection.set_schema_to_public()
    desk = browser(crm_a, "desk")
    assert 'data-testid="mute"' in desk.get(f"/messages/{conversation.pk}/").content.decode()
    assert desk.post(f"/messages/{conversation.pk}/mute/", {"muted": "1"}).status_code == 302
    with tenant_context(crm_a.gym):
        assert Participant.objects.get(conversation=conversation, user=crm_a.desk).muted
    page = desk.get(f"/messages/{conversation.pk}/").content.decode()
    assert 'aria-pressed="true"' in page
    assert "Unmute" in page
    partial = desk.post(f"/messages/{conversation.pk}/mute/", {"muted": "0"}, **HTMX)
    assert partial.status_code == 200
    assert 'aria-pressed="false"' in partial.content.decode()
    assert desk.post(f"/messages/{conversation.pk}/mute/", {"muted": "maybe"}).status_code == 400
    assert desk.get(f"/messages/{conversation.pk}/mute/").status_code == 405

    cara = browser(crm_a, "cara")
    assert cara.post(f"/portal/messages/{conversation.pk}/mute/", {"muted": "1"}).status_code == 302
    with tenant_context(crm_a.gym):
        assert Participant.objects.get(conversation=conversation, client=crm_a.cara).muted
        assert not Participant.objects.get(conversation=conversation, user=crm_a.desk).muted
    assert "Unmute" in cara.get(f"/portal/messages/{conversation.pk}/").content.decode()
    # Staff mute on staff pages, clients in the portal.
    assert cara.post(f"/messages/{conversation.pk}/mute/", {"muted": "1"}).status_code == 403
    assert desk.post(f"/portal/messages/{conversation.pk}/mute/", {"muted": "1"}).status_code == 403


def test_a_conversation_you_may_not_read_cannot_be_muted(crm_a) -> None:
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_gym(client=crm_a.cara)
    connection.set_schema_to_public()
    # Tina does not coach Cara: the gym's conversation with her is not Tina's.
    assert (
        browser(crm_a, "tina")
        .post(f"/messages/{conversation.pk}/mute/", {"muted": "1"})
        .status_code
        == 404
    )


def test_another_gyms_ids_change_nothing(crm_a, crm_b, yoga) -> None:
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_gym(client=crm_a.cara)
    connection.set_schema_to_public()
    desk_b = browser(crm_b, "desk")
    with tenant_context(crm_b.gym):
        assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert desk_b.post(f"/messages/{conversation.pk}/mute/", {"muted": "1"}).status_code == 404
    # Gym B has no classes: gym A's class id is not a choice there.
    refused = browser(crm_b, "manager").post(
        "/messages/groups/new/", {"title": "X", "kind": "class", "occurrence": yoga.pk}
    )
    assert refused.status_code == 400
    with tenant_context(crm_b.gym):
        assert not Conversation.objects.filter(kind=Kind.CLASS).exists()
    # A gym A session cookie is not a gym B login.
    manager_a = browser(crm_a, "manager")
    stranger = GymClient(crm_b.gym.subdomain)
    stranger.cookies = manager_a.cookies
    assert stranger.get("/messages/groups/new/").status_code == 302


def test_the_group_form_runs_a_bounded_number_of_queries(
    crm_a, django_assert_max_num_queries
) -> None:
    from apps.accounts.models import Role
    from tests.conftest import make_user

    with tenant_context(crm_a.gym):
        for n in range(12):
            make_class(crm_a, in_hours=24 + n, name=f"Class {n}")
            make_user(Role.FRONT_DESK, f"desk{n}@alpha.example")
            Client.objects.create(first_name=f"T{n}", tags=[f"tag{n}"])
    connection.set_schema_to_public()
    manager = browser(crm_a, "manager")
    manager.get("/messages/groups/new/")
    with django_assert_max_num_queries(15):
        page = manager.get("/messages/groups/new/").content.decode()
    assert "Class 11" in page
    assert "tag11" in page
