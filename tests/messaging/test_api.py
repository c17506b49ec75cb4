"""The messaging API: conversations, messages with cursor pagination, send (JSON and
multipart), edit, delete, mark read, attachments; bounded queries; gym B kept out."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image
from rest_framework.test import APIClient

from apps.messaging import services
from tests.conftest import GymClient
from tests.messaging.conftest import PDF_BYTES, jpeg_bytes

pytestmark = pytest.mark.django_db

CONVERSATIONS = "/api/v1/messaging/conversations/"


def messages_url(pk: int) -> str:
    return f"{CONVERSATIONS}{pk}/messages/"


@pytest.fixture
def gym_conversation(crm_a):  # type: ignore[no-untyped-def]
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_gym(client=crm_a.cara)
    connection.set_schema_to_public()
    return conversation


def post_many(crm, conversation, count: int, sender=None) -> list[int]:  # type: ignore[no-untyped-def]
    with tenant_context(crm.gym):
        ids = [
            services.post_message(
                conversation=conversation, sender_user=sender or crm.cara_user, body=f"m{n}"
            ).pk
            for n in range(count)
        ]
    connection.set_schema_to_public()
    return ids


class TestConversations:
    def test_opening_is_made_once_and_answers_the_same_one(self, api_as, crm_a):
        desk = api_as("desk")
        first = desk.post(CONVERSATIONS, {"client": crm_a.cara.pk}, format="json")
        again = desk.post(CONVERSATIONS, {"client": crm_a.cara.pk}, format="json")
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        assert first.json()["kind"] == "gym"
        assert first.json()["title"] == "Cara Cole"
        mine = api_as("cara").post(CONVERSATIONS, {}, format="json")
        assert mine.status_code == 200
        assert mine.json()["id"] == first.json()["id"]
        assert mine.json()["title"] == "The gym"

    def test_bad_requests_name_the_field(self, api_as, crm_a):
        tina = api_as("tina")
        answer = tina.post(CONVERSATIONS, {"client": crm_a.bob.pk}, format="json")
        assert answer.status_code == 400
        assert "client" in answer.json()["errors"]
        answer = api_as("cara").post(CONVERSATIONS, {"trainer": crm_a.tina.user.pk}, format="json")
        assert answer.status_code == 400
        assert "trainer" in answer.json()["errors"]
        answer = tina.post(CONVERSATIONS, {"title": "Group"}, format="json")
        assert "kind" in answer.json()["errors"]
        answer = tina.post(CONVERSATIONS, {"client": "x"}, format="json")
        assert "client" in answer.json()["errors"]

    def test_a_group(self, api_as, crm_a):
        answer = api_as("tina").post(
            CONVERSATIONS,
            {
                "kind": "team",
                "title": "Early birds",
                "users": [crm_a.desk.pk],
                "clients": [crm_a.ann.pk],
            },
            format="json",
        )
        assert answer.status_code == 201, answer.content
        assert answer.json()["title"] == "Early birds"
        listed = api_as("desk").get(CONVERSATIONS).json()["results"]
        assert answer.json()["id"] in [row["id"] for row in listed]
        assert answer.json()["id"] not in [
            row["id"] for row in api_as("tom").get(CONVERSATIONS).json()["results"]
        ]

    def test_the_list_runs_a_bounded_number_of_queries(
        self, api_as, crm_a, django_assert_max_num_queries
    ):
        with tenant_context(crm_a.gym):
            from apps.crm import services as crm_services

            for n in range(12):
                client = crm_services.client_create(actor=crm_a.owner, first_name=f"C{n}")
                conversation = services.conversation_with_gym(client=client)
                services.post_message(
                    conversation=conversation, sender_client=client, body="hello", via="sms"
                )
        connection.set_schema_to_public()
        desk = api_as("desk")
        with django_assert_max_num_queries(8):
            answer = desk.get(CONVERSATIONS, {"page_size": 100})
        rows = answer.json()["results"]
        assert len(rows) == 12
        assert all(row["unread_count"] == 1 for row in rows)
        assert desk.get(f"{CONVERSATIONS}unread/").json() == {"count": 12}


class TestMessages:
    def test_cursor_pagination_newest_first(self, api_as, crm_a, gym_conversation):
        ids = post_many(crm_a, gym_conversation, 7)
        desk = api_as("desk")
        seen: list[int] = []
        url: str | None = messages_url(gym_conversation.pk) + "?page_size=3"
        pages = 0
        while url:
            page = desk.get(url).json()
            seen += [row["id"] for row in page["results"]]
            url = page["next"]
            pages += 1
        assert seen == sorted(ids, reverse=True)
        assert pages == 3
        # New messages meanwhile do not shift a page already handed out.
        first = desk.get(messages_url(gym_conversation.pk) + "?page_size=3").json()
        post_many(crm_a, gym_conversation, 2)
        second = desk.get(first["next"]).json()
        assert [row["id"] for row in second["results"]] == sorted(ids, reverse=True)[3:6]

    def test_a_bad_cursor_or_page_size_is_a_400(self, api_as, gym_conversation):
        desk = api_as("desk")
        for query, field in (
            ({"cursor": "garbage"}, "cursor"),
            ({"page_size": "0"}, "page_size"),
            ({"page_size": "x"}, "page_size"),
        ):
            answer = desk.get(messages_url(gym_conversation.pk), query)
            assert answer.status_code == 400, query
            assert field in answer.json()["errors"]

    def test_messages_run_a_bounded_number_of_queries(
        self, api_as, crm_a, gym_conversation, django_assert_max_num_queries
    ):
        post_many(crm_a, gym_conversation, 60)
        with django_assert_max_num_queries(6):
            answer = api_as("desk").get(messages_url(gym_conversation.pk), {"page_size": 100})
        assert len(answer.json()["results"]) == 60

    def test_send_edit_delete_and_read(self, api_as, crm_a, gym_conversation):
        desk, cara = api_as("desk"), api_as("cara")
        sent = desk.post(messages_url(gym_conversation.pk), {"body": "Hi Cara"}, format="json")
        assert sent.status_code == 201, sent.content
        message = sent.json()
        assert message["sender"]["user"] == crm_a.desk.pk
        assert cara.get(f"{CONVERSATIONS}unread/").json() == {"count": 1}
        read = cara.post(f"{CONVERSATIONS}{gym_conversation.pk}/read/", {}, format="json")
        assert read.status_code == 200
        assert read.json()["last_read_message_id"] == message["id"]
        assert cara.get(f"{CONVERSATIONS}unread/").json() == {"count": 0}
        url = f"/api/v1/messaging/messages/{message['id']}/"
        assert cara.patch(url, {"body": "mine"}, format="json").status_code == 403
        edited = desk.patch(url, {"body": "Hi Cara!"}, format="json")
        assert edited.json()["body"] == "Hi Cara!"
        assert edited.json()["edited_at"]
        assert desk.patch(url, {"body": ""}, format="json").status_code == 400
        assert cara.delete(url).status_code == 403
        assert desk.delete(url).status_code == 204
        assert desk.get(url).json()["deleted_at"]
        empty = desk.post(messages_url(gym_conversation.pk), {"body": "  "}, format="json")
        assert empty.status_code == 400
        assert "body" in empty.json()["errors"]

    def test_mute(self, api_as, gym_conversation):
        url = f"{CONVERSATIONS}{gym_conversation.pk}/mute/"
        assert api_as("cara").post(url, {"muted": True}, format="json").json() == {"muted": True}
        assert api_as("desk").post(url, {"muted": False}, format="json").json() == {"muted": False}
        assert "muted" in api_as("desk").post(url, {}, format="json").json()["errors"]
        assert api_as("tina").post(url, {"muted": True}, format="json").status_code == 404

    def test_nobody_reads_or_writes_a_conversation_not_theirs(
        self, api_as, crm_a, gym_conversation
    ):
        post_many(crm_a, gym_conversation, 1)
        for role in ("tina", "tom"):
            client = api_as(role)
            assert client.get(messages_url(gym_conversation.pk)).status_code == 404
            assert (
                client.post(
                    messages_url(gym_conversation.pk), {"body": "x"}, format="json"
                ).status_code
                == 404
            )
            assert client.get(f"{CONVERSATIONS}{gym_conversation.pk}/").status_code == 404


class TestAttachments:
    def jpeg_with_gps(self) -> bytes:
        image = Image.new("RGB", (80, 60), (10, 200, 10))
        exif = image.getexif()
        exif[0x010F] = "PhoneMaker"  # Make
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", exif=exif)
        return buffer.getvalue()

    def test_a_picture_is_stripped_and_served_to_participants_only(
        self, api_as, crm_a, gym_conversation
    ):
        upload = SimpleUploadedFile("beach.jpg", self.jpeg_with_gps(), content_type="image/jpeg")
        sent = api_as("cara").post(
            messages_url(gym_conversation.pk), {"attachment": upload}, format="multipart"
        )
        assert sent.status_code == 201, sent.content
        attachment = sent.json()["attachment"]
        assert attachment["content_type"] == "image/jpeg"
        assert attachment["thumbnail_url"]
        served = api_as("desk").get(attachment["url"])
        assert served.status_code == 200
        content = b"".join(served.streaming_content)
        assert not Image.open(io.BytesIO(content)).getexif()
        assert api_as("desk").get(attachment["thumbnail_url"]).status_code == 200
        assert api_as("tina").get(attachment["url"]).status_code == 404

    def test_a_pdf_is_always_a_download(self, api_as, gym_conversation):
        upload = SimpleUploadedFile("plan.pdf", PDF_BYTES, content_type="application/pdf")
        sent = api_as("desk").post(
            messages_url(gym_conversation.pk),
            {"attachment": upload, "body": "Your plan"},
            format="multipart",
        )
        assert sent.status_code == 201, sent.content
        served = api_as("cara").get(sent.json()["attachment"]["url"])
        assert served.status_code == 200
        assert served["Content-Type"] == "application/pdf"
        assert served["Content-Disposition"].startswith("attachment")
        assert "sandbox" in served["Content-Security-Policy"]

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("photo.jpg", b"this is not a picture"),
            ("plan.pdf", b"%PDF-1.4\nno end marker"),
            ("empty.png", b""),
            ("script.pdf", b"<script>alert(1)</script>"),
        ],
    )
    def test_a_file_that_is_not_what_it_claims_is_refused(
        self, api_as, gym_conversation, name, content
    ):
        upload = SimpleUploadedFile(name, content)
        answer = api_as("desk").post(
            messages_url(gym_conversation.pk), {"attachment": upload}, format="multipart"
        )
        assert answer.status_code == 400
        assert "attachment" in answer.json()["errors"]

    def test_too_large_is_refused(self, api_as, gym_conversation, settings):
        settings.MESSAGE_ATTACHMENT_MAX_BYTES = 1000
        upload = SimpleUploadedFile("big.jpg", jpeg_bytes((400, 400)))
        answer = api_as("desk").post(
            messages_url(gym_conversation.pk), {"attachment": upload}, format="multipart"
        )
        assert answer.status_code == 400
        assert "attachment" in answer.json()["errors"]


def test_gym_a_credentials_reach_nothing_on_gym_b(crm_a, crm_b):
    with tenant_context(crm_b.gym):
        conversation = services.conversation_with_gym(client=crm_b.cara)
        message = services.post_message(
            conversation=conversation, sender_client=crm_b.cara, body="B's"
        )
    connection.set_schema_to_public()
    # A real session of gym A's front desk, sent to gym B's host.
    login = GymClient(crm_a.gym.subdomain)
    login.force_login(crm_a.desk)
    intruder = APIClient(HTTP_HOST=crm_b.host)
    intruder.cookies["sessionid"] = login.cookies["sessionid"].value
    for path in (
        CONVERSATIONS,
        f"{CONVERSATIONS}{conversation.pk}/",
        messages_url(conversation.pk),
        f"/api/v1/messaging/messages/{message.pk}/",
        f"/api/v1/messaging/messages/{message.pk}/attachment/",
    ):
        answer = intruder.get(path)
        assert answer.status_code in (401, 403, 404), path
        assert b"B's" not in answer.content
