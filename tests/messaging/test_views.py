"""The staff inbox and the portal's Messages: who may open them, sending through the page
(and through htmx), starting a conversation, read on opening, bounded queries."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context

from apps.messaging import selectors, services
from apps.messaging.models import Conversation, Kind, Message
from tests.conftest import GymClient

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def browser(crm, role: str) -> GymClient:  # type: ignore[no-untyped-def]
    client = GymClient(crm.gym.subdomain)
    client.force_login(crm.user(role))
    return client


@pytest.fixture
def gym_conversation(crm_a):  # type: ignore[no-untyped-def]
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_gym(client=crm_a.cara)
        services.post_message(conversation=conversation, sender_user=crm_a.cara_user, body="Hi!")
    connection.set_schema_to_public()
    return conversation


def test_who_opens_which_page(crm_a):
    assert browser(crm_a, "desk").get("/messages/").status_code == 200
    assert browser(crm_a, "tina").get("/messages/").status_code == 200
    assert browser(crm_a, "cara").get("/messages/").status_code == 403
    assert browser(crm_a, "cara").get("/portal/messages/").status_code == 200
    assert browser(crm_a, "desk").get("/portal/messages/").status_code == 403
    assert GymClient(crm_a.gym.subdomain).get("/messages/").status_code == 302


def test_the_inbox_shows_unread_and_opening_reads(crm_a, gym_conversation):
    desk = browser(crm_a, "desk")
    page = desk.get("/messages/").content.decode()
    assert "Cara Cole" in page
    assert 'data-testid="conversation-unread"' in page
    assert 'data-testid="unread-badge">' in page  # the navigation's count, shown
    thread = desk.get(f"/messages/{gym_conversation.pk}/").content.decode()
    assert "Hi!" in thread
    with tenant_context(crm_a.gym):
        assert selectors.unread_conversation_count(viewer=crm_a.desk) == 0
    assert 'data-testid="conversation-unread"' not in desk.get("/messages/list/").content.decode()


def test_sending_through_the_page_and_htmx(crm_a, gym_conversation):
    desk = browser(crm_a, "desk")
    answer = desk.post(f"/messages/{gym_conversation.pk}/send/", {"body": "Hello Cara"})
    assert answer.status_code == 302
    partial = desk.post(f"/messages/{gym_conversation.pk}/send/", {"body": "Again"}, **HTMX)
    assert partial.status_code == 200
    assert "Again" in partial.content.decode()
    refused = desk.post(f"/messages/{gym_conversation.pk}/send/", {"body": ""}, **HTMX)
    assert refused.status_code == 400
    assert "Write a message or attach a file." in refused.content.decode()
    bad_file = desk.post(
        f"/messages/{gym_conversation.pk}/send/",
        {"body": "", "attachment": SimpleUploadedFile("x.jpg", b"nope")},
        **HTMX,
    )
    assert bad_file.status_code == 400
    assert "PDF" in bad_file.content.decode()
    with tenant_context(crm_a.gym):
        assert list(
            Message.objects.filter(conversation=gym_conversation).values_list("body", flat=True)
        ) == ["Hi!", "Hello Cara", "Again"]


def test_a_client_answers_from_the_portal_and_edits_then_deletes(crm_a, gym_conversation):
    cara = browser(crm_a, "cara")
    page = cara.get(f"/portal/messages/{gym_conversation.pk}/").content.decode()
    assert "Hi!" in page
    cara.post(f"/portal/messages/{gym_conversation.pk}/send/", {"body": "Typo hre"})
    with tenant_context(crm_a.gym):
        message = Message.objects.filter(conversation=gym_conversation).last()
    cara.post(f"/portal/messages/message/{message.pk}/edit/", {"body": "Typo here"})
    cara.post(f"/portal/messages/message/{message.pk}/delete/")
    with tenant_context(crm_a.gym):
        message.refresh_from_db()
    assert message.deleted_at is not None
    # Someone else's message: refused, shown as an error, unchanged.
    with tenant_context(crm_a.gym):
        first = Message.objects.filter(conversation=gym_conversation).first()
        services.post_message(conversation=gym_conversation, sender_user=crm_a.desk, body="Ours")
        ours = Message.objects.filter(conversation=gym_conversation).last()
    connection.set_schema_to_public()
    cara.post(f"/portal/messages/message/{ours.pk}/delete/")
    with tenant_context(crm_a.gym):
        ours.refresh_from_db()
        assert ours.deleted_at is None
        assert first.pk != ours.pk


def test_starting_conversations(crm_a):
    tina = browser(crm_a, "tina")
    results = tina.get("/messages/clients/", {"q": "ann"}).content.decode()
    assert "Ann Able" in results
    assert "Bob" not in tina.get("/messages/clients/", {"q": "bob"}).content.decode()
    answer = tina.post("/messages/start/", {"client": crm_a.ann.pk})
    assert answer.status_code == 302
    assert tina.post("/messages/start/", {"client": crm_a.bob.pk}).status_code == 404
    cara = browser(crm_a, "cara")
    portal = cara.get("/portal/messages/").content.decode()
    assert "Message the gym" in portal
    assert "Message Tom Coach" in portal
    assert cara.post("/portal/messages/start/", {"trainer": crm_a.tina.user.pk}).status_code == 404
    assert cara.post("/portal/messages/start/", {"trainer": crm_a.tom.user.pk}).status_code == 302
    assert cara.post("/portal/messages/start/", {}).status_code == 302
    with tenant_context(crm_a.gym):
        kinds = set(Conversation.objects.filter(client=crm_a.cara).values_list("kind", flat=True))
    assert kinds == {Kind.GYM, Kind.TRAINER}


def test_threads_of_others_are_404(crm_a, gym_conversation):
    for role in ("tina", "tom"):
        assert browser(crm_a, role).get(f"/messages/{gym_conversation.pk}/").status_code == 404
    assert (
        browser(crm_a, "tina")
        .post(f"/messages/{gym_conversation.pk}/send/", {"body": "x"})
        .status_code
        == 404
    )


def test_the_inbox_runs_a_bounded_number_of_queries(crm_a, django_assert_max_num_queries):
    from apps.crm import services as crm_services

    with tenant_context(crm_a.gym):
        for n in range(15):
            client = crm_services.client_create(actor=crm_a.owner, first_name=f"C{n}")
            conversation = services.conversation_with_gym(client=client)
            for body in ("a", "b"):
                services.post_message(conversation=conversation, sender_client=client, body=body)
    connection.set_schema_to_public()
    desk = browser(crm_a, "desk")
    desk.get("/messages/")  # warm the session
    with django_assert_max_num_queries(25):
        page = desk.get("/messages/")
    assert page.content.decode().count('data-testid="conversation-unread"') == 15
    with tenant_context(crm_a.gym):
        last = Conversation.objects.filter(kind=Kind.GYM).order_by("-pk").first()
    connection.set_schema_to_public()
    with django_assert_max_num_queries(30):
        desk.get(f"/messages/{last.pk}/")
