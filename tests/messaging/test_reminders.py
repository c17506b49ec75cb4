"""The unread reminder: one `new_message` notification per person and unread streak, after
MESSAGE_NOTIFY_AFTER_MINUTES, however many messages and however often the sweep runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.messaging import services
from apps.messaging.models import Message, Participant
from apps.notifications.models import Delivery

pytestmark = pytest.mark.django_db


def age(conversation, minutes: int) -> None:  # type: ignore[no-untyped-def]
    past = timezone.now() - timedelta(minutes=minutes)
    Message.objects.filter(conversation=conversation).update(created_at=past)
    conversation.__class__.objects.filter(pk=conversation.pk).update(last_message_at=past)


def reminded(user) -> set[str]:  # type: ignore[no-untyped-def]
    return set(
        Delivery.objects.filter(recipient_user=user, kind="new_message").values_list(
            "event_key", flat=True
        )
    )


def test_one_reminder_per_unread_streak(crm_a, settings):
    settings.MESSAGE_NOTIFY_AFTER_MINUTES = 30
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_trainer(client=crm_a.cara, trainer=crm_a.tom.user)
        for body in ("Hi", "Are you there?", "Hello?"):
            services.post_message(conversation=conversation, sender_user=crm_a.tom.user, body=body)
        # Too recent: nothing yet.
        assert services.unread_reminders_send() == 0
        age(conversation, 31)
        assert services.unread_reminders_send() == 1
        first_streak = reminded(crm_a.cara_user)
        assert len(first_streak) >= 1
        # The sweep runs again, more messages arrive: still the one reminder.
        services.post_message(conversation=conversation, sender_user=crm_a.tom.user, body="?")
        age(conversation, 40)
        assert services.unread_reminders_send() == 0
        assert reminded(crm_a.cara_user) == first_streak
        # Tom is not reminded of his own messages.
        assert reminded(crm_a.tom.user) == set()
        # Cara reads; a new streak gets a new reminder.
        conversation.refresh_from_db()
        services.mark_read(viewer=crm_a.cara_user, conversation=conversation)
        services.post_message(conversation=conversation, sender_user=crm_a.tom.user, body="New")
        assert services.unread_reminders_send() == 0
        age(conversation, 31)
        assert services.unread_reminders_send() == 1
        assert len(reminded(crm_a.cara_user)) > len(first_streak)


def test_muted_and_read_people_are_not_reminded(crm_a, settings):
    settings.MESSAGE_NOTIFY_AFTER_MINUTES = 5
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_gym(client=crm_a.cara)
        services.post_message(conversation=conversation, sender_user=crm_a.desk, body="Hi")
        services.post_message(conversation=conversation, sender_user=crm_a.cara_user, body="Yo")
        age(conversation, 10)
        # The desk wrote, so takes part: reminded of Cara's answer. Cara wrote last: read.
        participant = Participant.objects.get(conversation=conversation, user=crm_a.desk)
        services.conversation_mute(viewer=crm_a.desk, conversation=conversation, muted=True)
        assert services.unread_reminders_send() == 0
        participant.refresh_from_db()
        assert participant.muted
        services.conversation_mute(viewer=crm_a.desk, conversation=conversation, muted=False)
        assert services.unread_reminders_send() == 1
        assert reminded(crm_a.desk)
        assert reminded(crm_a.cara_user) == set()


def test_a_client_without_a_login_is_reminded_as_a_client(crm_a, settings):
    settings.MESSAGE_NOTIFY_AFTER_MINUTES = 5
    with tenant_context(crm_a.gym):
        conversation = services.conversation_with_trainer(client=crm_a.ann, trainer=crm_a.tina.user)
        services.post_message(conversation=conversation, sender_user=crm_a.tina.user, body="Hi")
        age(conversation, 10)
        assert services.unread_reminders_send() == 1
        assert Delivery.objects.filter(recipient_client=crm_a.ann, kind="new_message").exists()
