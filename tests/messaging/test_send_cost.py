"""What sending one message costs: the consumer's work for a `send` over /ws/messages/ (the
conversation check, post_message and the payload) runs a fixed, small number of queries, and
the role rules still hold on that path."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.crm import services as crm_services
from apps.crm.models import Assignment
from apps.messaging import realtime, selectors, services
from apps.messaging.models import Conversation, Kind, Message, Participant
from apps.messaging.payloads import message_data

pytestmark = pytest.mark.django_db

# conversation_get, the message INSERT, the conversation's last message UPDATE, the sender's
# read position UPDATE: four (a one-to-one conversation's audience follows from what
# conversation_get read); the test's transaction adds a SAVEPOINT and its RELEASE around
# post_message's atomic block. Staff answering in a conversation with the gym add apps.sms's
# check whether the client last wrote by SMS.
SEND_QUERIES = {"client": 6, "trainer": 6, "desk": 7, "client_to_gym": 6}


def send(user, pk: int, body: str):  # type: ignore[no-untyped-def]
    """What MessagesConsumer._send does in the gym's schema."""
    conversation = selectors.conversation_get(viewer=user, pk=pk)
    message = services.post_message(conversation=conversation, sender_user=user, body=body)
    return message_data(message)


@pytest.mark.parametrize("who", ["client", "trainer", "desk", "client_to_gym"])
def test_sending_one_message_runs_a_fixed_number_of_queries(
    crm_a, who, django_assert_max_num_queries
):
    with tenant_context(crm_a.gym):
        if who in ("client", "trainer"):
            conversation = services.conversation_with_trainer(
                client=crm_a.cara, trainer=crm_a.tom.user
            )
        else:
            conversation = services.conversation_with_gym(client=crm_a.cara)
        user = {
            "client": crm_a.cara_user,
            "client_to_gym": crm_a.cara_user,
            "trainer": crm_a.tom.user,
            "desk": crm_a.desk,
        }[who]
        send(user, conversation.pk, "warm-up")  # the desk's participant row is made here
        with django_assert_max_num_queries(SEND_QUERIES[who]):
            data = send(user, conversation.pk, "Hi again")
        assert data["body"] == "Hi again"
        own = Participant.objects.get(selectors.participant_filter(user), conversation=conversation)
        assert own.last_read_message_id == data["id"]


def test_a_client_whose_trainer_left_is_refused_on_the_socket_path(crm_a):
    """conversation_get reads whether the trainer still coaches the client with the
    conversation; post_message refuses on that, and the trainer no longer reads it at all."""
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_trainer(client=crm_a.cara, trainer=crm_a.tom.user)
        send(crm_a.cara_user, conversation.pk, "Before")
        assignment = Assignment.objects.get(client=crm_a.cara, trainer=crm_a.tom)
        crm_services.assignment_end(actor=crm_a.owner, assignment=assignment)
        with pytest.raises(ValidationError) as error:
            send(crm_a.cara_user, conversation.pk, "Hello?")
        assert "conversation" in error.value.message_dict
        read = selectors.conversation_get(viewer=crm_a.cara_user, pk=conversation.pk)
        assert crm_a.tom.user.pk not in selectors.audience_user_ids(conversation=read)
        assert crm_a.cara_user.pk in selectors.audience_user_ids(conversation=read)
        with pytest.raises(Conversation.DoesNotExist):
            selectors.conversation_get(viewer=crm_a.tom.user, pk=conversation.pk)


def test_a_conversation_read_for_one_user_is_checked_again_for_another(crm_a):
    """The skipped permission query holds only for the user conversation_get read it for."""
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_trainer(client=crm_a.ann, trainer=crm_a.tina.user)
        read = selectors.conversation_get(viewer=crm_a.tina.user, pk=conversation.pk)
        for intruder in (crm_a.tom.user, crm_a.desk, crm_a.cara_user):
            with pytest.raises(PermissionDenied):
                services.post_message(conversation=read, sender_user=intruder, body="x")
        assert not Message.objects.filter(conversation=conversation).exists()


def test_a_one_to_one_conversation_is_announced_without_reading_its_participants(
    crm_a, django_assert_num_queries
):
    """Who hears of a message in a conversation with a trainer or with the gym follows from
    what conversation_get read: the client's login, the trainer while assigned, and the
    inbox group; a colleague who left the inbox roles hears nothing more."""
    with tenant_context(crm_a.gym):
        with_tom = services.conversation_with_trainer(client=crm_a.cara, trainer=crm_a.tom.user)
        with_gym = services.conversation_with_gym(client=crm_a.cara)
        send(crm_a.desk, with_gym.pk, "Welcome")  # the desk's participant row
        crm_a.desk.role = Role.TRAINER
        crm_a.desk.save(update_fields=["role"])
        schema = crm_a.gym.schema_name
        read_tom = selectors.conversation_get(viewer=crm_a.cara_user, pk=with_tom.pk)
        read_gym = selectors.conversation_get(viewer=crm_a.cara_user, pk=with_gym.pk)
        with django_assert_num_queries(0):
            assert realtime.audience_groups(read_tom) == sorted(
                realtime.user_group(schema, pk) for pk in (crm_a.cara_user.pk, crm_a.tom.user.pk)
            )
            assert realtime.audience_groups(read_gym) == [
                realtime.user_group(schema, crm_a.cara_user.pk),
                realtime.inbox_group(schema),
            ]


def test_a_group_is_announced_to_its_members_with_a_login(crm_a):
    with tenant_context(crm_a.gym):
        group = services.group_create(
            actor=crm_a.owner,
            kind=Kind.TEAM,
            title="Morning crew",
            users=[crm_a.tina.user, crm_a.desk],
            clients=[crm_a.ann, crm_a.cara],
        )
        # Ann has no login: she hears by reminder, not on a socket.
        assert selectors.audience_user_ids(conversation=group) == {
            crm_a.owner.pk,
            crm_a.tina.user.pk,
            crm_a.desk.pk,
            crm_a.cara_user.pk,
        }
