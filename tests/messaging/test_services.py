"""Services and selectors of messaging: who may write and read where, unread counts, edits
within the window, and the events each write announces."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.crm import services as crm_services
from apps.crm.models import Assignment
from apps.messaging import realtime, selectors, services
from apps.messaging.models import Conversation, Kind, Message, Participant, Via

pytestmark = pytest.mark.django_db


def visible(user) -> set[int]:  # type: ignore[no-untyped-def]
    return set(selectors.conversation_list(viewer=user).values_list("pk", flat=True))


def unread(user) -> int:  # type: ignore[no-untyped-def]
    return selectors.unread_conversation_count(viewer=user)


class TestConversations:
    def test_the_gym_conversation_is_made_once(self, crm_a):
        with tenant_context(crm_a.gym):
            first = services.conversation_with_gym(client=crm_a.cara)
            again = services.conversation_with_gym(client=crm_a.cara)
            assert first.pk == again.pk
            assert first.kind == Kind.GYM
            assert list(
                Participant.objects.filter(conversation=first).values_list("client_id", flat=True)
            ) == [crm_a.cara.pk]

    def test_each_role_opens_the_right_conversation(self, crm_a):
        with tenant_context(crm_a.gym):
            by_trainer = services.conversation_open(actor=crm_a.tina.user, client=crm_a.ann)
            by_desk = services.conversation_open(actor=crm_a.desk, client=crm_a.ann)
            by_client = services.conversation_open(actor=crm_a.cara_user)
            to_trainer = services.conversation_open(actor=crm_a.cara_user, trainer=crm_a.tom.user)
            assert (by_trainer.kind, by_trainer.trainer_id) == (Kind.TRAINER, crm_a.tina.user.pk)
            assert (by_desk.kind, by_desk.client_id) == (Kind.GYM, crm_a.ann.pk)
            assert (by_client.kind, by_client.client_id) == (Kind.GYM, crm_a.cara.pk)
            assert (to_trainer.kind, to_trainer.trainer_id) == (Kind.TRAINER, crm_a.tom.user.pk)

    def test_a_trainer_reaches_only_their_clients(self, crm_a):
        with tenant_context(crm_a.gym):
            with pytest.raises(ValidationError) as error:
                services.conversation_open(actor=crm_a.tina.user, client=crm_a.bob)
            assert "client" in error.value.message_dict
            with pytest.raises(ValidationError) as error:
                services.conversation_open(actor=crm_a.cara_user, trainer=crm_a.tina.user)
            assert "trainer" in error.value.message_dict

    def test_groups_take_only_people_the_creator_may_reach(self, crm_a):
        with tenant_context(crm_a.gym):
            with pytest.raises(ValidationError) as error:
                services.group_create(
                    actor=crm_a.tina.user, kind=Kind.TEAM, title="Runners", clients=[crm_a.cara]
                )
            assert "clients" in error.value.message_dict
            with pytest.raises(ValidationError) as error:
                services.group_create(
                    actor=crm_a.owner, kind=Kind.STAFF, title="Staff", clients=[crm_a.ann]
                )
            assert "clients" in error.value.message_dict
            with pytest.raises(ValidationError) as error:
                services.group_create(actor=crm_a.owner, kind=Kind.GYM, title="x")
            assert "kind" in error.value.message_dict
            with pytest.raises(PermissionDenied):
                services.group_create(actor=crm_a.cara_user, kind=Kind.TEAM, title="Mine")
            team = services.group_create(
                actor=crm_a.tina.user,
                kind=Kind.TEAM,
                title="Morning crew",
                users=[crm_a.desk],
                clients=[crm_a.ann],
            )
            assert team.pk in visible(crm_a.tina.user)
            assert team.pk in visible(crm_a.desk)
            assert team.pk not in visible(crm_a.manager)
            assert team.pk not in visible(crm_a.tom.user)


class TestWhoReadsWhat:
    def test_the_role_rules(self, crm_a):
        with tenant_context(crm_a.gym):
            gym_ann = services.conversation_with_gym(client=crm_a.ann)
            gym_cara = services.conversation_with_gym(client=crm_a.cara)
            tina_ann = services.conversation_with_trainer(client=crm_a.ann, trainer=crm_a.tina.user)
            tom_cara = services.conversation_with_trainer(client=crm_a.cara, trainer=crm_a.tom.user)
            staff = services.group_create(
                actor=crm_a.owner, kind=Kind.STAFF, title="Staff room", users=[crm_a.desk]
            )
            for inbox in (crm_a.owner, crm_a.manager, crm_a.desk):
                assert {gym_ann.pk, gym_cara.pk} <= visible(inbox)
                assert not {tina_ann.pk, tom_cara.pk} & visible(inbox)
            assert visible(crm_a.tina.user) == {tina_ann.pk}
            assert visible(crm_a.tom.user) == {tom_cara.pk}
            assert visible(crm_a.cara_user) == {gym_cara.pk, tom_cara.pk}
            assert staff.pk in visible(crm_a.desk)
            assert staff.pk not in visible(crm_a.manager)

    def test_a_trainer_loses_the_conversation_with_a_client_no_longer_theirs(self, crm_a):
        with tenant_context(crm_a.gym):
            conversation = services.conversation_with_trainer(
                client=crm_a.cara, trainer=crm_a.tom.user
            )
            assignment = Assignment.objects.get(client=crm_a.cara, trainer=crm_a.tom)
            crm_services.assignment_end(actor=crm_a.owner, assignment=assignment)
            assert conversation.pk not in visible(crm_a.tom.user)
            with pytest.raises(PermissionDenied):
                services.post_message(
                    conversation=conversation, sender_user=crm_a.tom.user, body="Still there?"
                )
            # The client keeps the history but is sent to the gym to write.
            assert conversation.pk in visible(crm_a.cara_user)
            with pytest.raises(ValidationError) as error:
                services.post_message(
                    conversation=conversation, sender_user=crm_a.cara_user, body="Hello?"
                )
            assert "conversation" in error.value.message_dict
            assert crm_a.tom.user.pk not in selectors.audience_user_ids(conversation=conversation)

    def test_nobody_writes_where_they_may_not_read(self, crm_a):
        with tenant_context(crm_a.gym):
            tina_ann = services.conversation_with_trainer(client=crm_a.ann, trainer=crm_a.tina.user)
            gym_ann = services.conversation_with_gym(client=crm_a.ann)
            for user, conversation in (
                (crm_a.tom.user, tina_ann),
                (crm_a.desk, tina_ann),
                (crm_a.cara_user, gym_ann),
                (crm_a.tina.user, gym_ann),
            ):
                with pytest.raises(PermissionDenied):
                    services.post_message(conversation=conversation, sender_user=user, body="x")
            with pytest.raises(PermissionDenied):
                services.post_message(conversation=gym_ann, sender_client=crm_a.cara, body="x")


class TestMessages:
    def test_bad_bodies_name_the_field(self, crm_a):
        with tenant_context(crm_a.gym):
            conversation = services.conversation_with_gym(client=crm_a.cara)
            for body in ("", "   ", "x" * (services.MAX_BODY_LENGTH + 1), "a\x00b"):
                with pytest.raises(ValidationError) as error:
                    services.post_message(
                        conversation=conversation, sender_user=crm_a.desk, body=body
                    )
                assert list(error.value.message_dict) == ["body"]
            with pytest.raises(ValidationError) as error:
                services.post_message(
                    conversation=conversation, sender_user=crm_a.desk, body="x", via="fax"
                )
            assert list(error.value.message_dict) == ["via"]

    def test_an_sms_from_a_client_without_a_login_lands_in_their_gym_conversation(self, crm_a):
        with tenant_context(crm_a.gym):
            conversation = services.conversation_with_gym(client=crm_a.ann)
            message = services.post_message(
                conversation=conversation, sender_client=crm_a.ann, body="Running late", via=Via.SMS
            )
            conversation.refresh_from_db()
            assert conversation.last_message_id == message.pk
            assert (message.sender_user_id, message.sender_client_id) == (None, crm_a.ann.pk)
            assert unread(crm_a.desk) == 1
            assert unread(crm_a.tina.user) == 0

    def test_a_client_login_writes_as_their_client_record(self, crm_a):
        with tenant_context(crm_a.gym):
            conversation = services.conversation_with_gym(client=crm_a.cara)
            message = services.post_message(
                conversation=conversation, sender_user=crm_a.cara_user, body="Hi"
            )
            assert (message.sender_user_id, message.sender_client_id) == (
                crm_a.cara_user.pk,
                crm_a.cara.pk,
            )

    def test_edit_and_delete_own_messages_within_the_window(self, crm_a, settings):
        settings.MESSAGE_EDIT_WINDOW_MINUTES = 10
        with tenant_context(crm_a.gym):
            conversation = services.conversation_with_gym(client=crm_a.cara)
            message = services.post_message(
                conversation=conversation, sender_user=crm_a.desk, body="See you at 6"
            )
            with pytest.raises(PermissionDenied):
                services.message_edit(actor=crm_a.owner, message=message, body="Mine now")
            edited = services.message_edit(actor=crm_a.desk, message=message, body="See you at 7")
            assert edited.body == "See you at 7"
            assert edited.edited_at is not None
            Message.objects.filter(pk=message.pk).update(
                created_at=timezone.now() - timedelta(minutes=11)
            )
            with pytest.raises(ValidationError) as error:
                services.message_edit(actor=crm_a.desk, message=message, body="Too late")
            assert "message" in error.value.message_dict
            with pytest.raises(ValidationError):
                services.message_delete(actor=crm_a.desk, message=message)
            Message.objects.filter(pk=message.pk).update(created_at=timezone.now())
            deleted = services.message_delete(actor=crm_a.desk, message=message)
            assert deleted.deleted_at is not None
            assert deleted.body == ""
            with pytest.raises(ValidationError):
                services.message_edit(actor=crm_a.desk, message=message, body="Back")


class TestUnread:
    def test_counts_move_with_posts_and_reads(self, crm_a):
        with tenant_context(crm_a.gym):
            conversation = services.conversation_with_gym(client=crm_a.cara)
            assert unread(crm_a.desk) == 0
            services.post_message(conversation=conversation, sender_user=crm_a.cara_user, body="1")
            services.post_message(conversation=conversation, sender_user=crm_a.cara_user, body="2")
            assert unread(crm_a.desk) == unread(crm_a.owner) == 1
            assert unread(crm_a.cara_user) == 0
            row = selectors.inbox(viewer=crm_a.desk).get(pk=conversation.pk)
            assert row.unread_count == 2
            services.mark_read(viewer=crm_a.desk, conversation=conversation)
            assert unread(crm_a.desk) == 0
            assert unread(crm_a.owner) == 1
            # The front desk answers: news to the client, not to the owner (a colleague's
            # answer in the shared inbox).
            services.post_message(conversation=conversation, sender_user=crm_a.desk, body="Hi!")
            assert unread(crm_a.cara_user) == 1
            assert selectors.inbox(viewer=crm_a.owner).get(pk=conversation.pk).unread_count == 2
            services.mark_read(viewer=crm_a.cara_user, conversation=conversation)
            assert unread(crm_a.cara_user) == 0

    def test_a_read_position_only_moves_forward(self, crm_a):
        with tenant_context(crm_a.gym):
            conversation = services.conversation_with_gym(client=crm_a.cara)
            first = services.post_message(
                conversation=conversation, sender_user=crm_a.cara_user, body="1"
            )
            services.post_message(conversation=conversation, sender_user=crm_a.cara_user, body="2")
            conversation.refresh_from_db()
            participant = services.mark_read(viewer=crm_a.desk, conversation=conversation)
            assert participant.last_read_message_id == conversation.last_message_id
            again = services.mark_read(viewer=crm_a.desk, conversation=conversation, up_to=first.pk)
            assert again.last_read_message_id == conversation.last_message_id
            # Past the last message: held at the last one.
            far = services.mark_read(viewer=crm_a.owner, conversation=conversation, up_to=10**12)
            assert far.last_read_message_id == conversation.last_message_id

    def test_deleted_messages_are_not_unread(self, crm_a):
        with tenant_context(crm_a.gym):
            conversation = services.conversation_with_gym(client=crm_a.cara)
            message = services.post_message(
                conversation=conversation, sender_user=crm_a.cara_user, body="oops"
            )
            assert unread(crm_a.desk) == 1
            services.message_delete(actor=crm_a.cara_user, message=message)
            assert unread(crm_a.desk) == 0


class TestEvents:
    def listen(self, group: str):  # type: ignore[no-untyped-def]
        layer = get_channel_layer()
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, channel)
        return layer, channel

    def test_events_reach_the_audience_once_committed(
        self, crm_a, django_capture_on_commit_callbacks
    ):
        schema = crm_a.gym.schema_name
        layer, desk_channel = self.listen(realtime.inbox_group(schema))
        _, cara_channel = self.listen(realtime.user_group(schema, crm_a.cara_user.pk))
        _, tina_channel = self.listen(realtime.user_group(schema, crm_a.tina.user.pk))
        with tenant_context(crm_a.gym):
            conversation = services.conversation_with_gym(client=crm_a.cara)
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                message = services.post_message(
                    conversation=conversation, sender_user=crm_a.desk, body="Welcome!"
                )
            # Nothing before the commit.
            assert callbacks
            for callback in callbacks:
                callback()
        connection.set_schema_to_public()
        for channel in (desk_channel, cara_channel):
            # The payload travels as its JSON text, encoded once for every socket.
            payload = json.loads(async_to_sync(layer.receive)(channel)["text"])
            assert payload["type"] == "message.new"
            assert payload["message"]["id"] == message.pk
            assert payload["message"]["body"] == "Welcome!"
        assert tina_channel not in layer.groups.get(realtime.inbox_group(schema), {})
        assert layer.channels.get(tina_channel) is None or layer.channels[tina_channel].empty()

    def test_group_names_carry_the_schema(self, crm_a):
        assert realtime.user_group(crm_a.gym.schema_name, 7).startswith(crm_a.gym.schema_name + ".")
        assert realtime.inbox_group(crm_a.gym.schema_name).startswith(crm_a.gym.schema_name + ".")


def test_conversation_shapes_are_checked_by_the_database(crm_a):
    from django.db import IntegrityError, transaction

    with tenant_context(crm_a.gym):
        services.conversation_with_gym(client=crm_a.cara)
        with pytest.raises(IntegrityError), transaction.atomic():
            Conversation.objects.create(kind=Kind.GYM, client=crm_a.cara)
        with pytest.raises(IntegrityError), transaction.atomic():
            Conversation.objects.create(kind=Kind.TEAM, client=crm_a.cara)
