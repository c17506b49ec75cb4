"""Staff replies in a conversation a client started by SMS go back by SMS. Messaging knows
nothing of SMS: this listens for its new messages instead (apps.sms.apps.SmsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.accounts.models import Role


@receiver(post_save, sender="messaging.Message", dispatch_uid="sms_staff_reply_by_sms")
def staff_reply_by_sms(sender: Any, instance: Any, created: bool, raw: bool = False, **_: Any):
    from apps.messaging.models import Kind, Message, Via
    from apps.sms.services import sms_reply_queue

    if not created or raw or instance.sender_user_id is None or instance.via != Via.APP:
        return
    if instance.sender_user.role == Role.CLIENT:
        return
    conversation = instance.conversation
    if conversation.kind != Kind.GYM or conversation.client_id is None:
        return
    # "The client last wrote here by SMS": their newest message before this one.
    last_from_client = (
        Message.objects.filter(conversation_id=conversation.pk, sender_client__isnull=False)
        .exclude(pk=instance.pk)
        .order_by("-pk")
        .values_list("via", flat=True)
        .first()
    )
    if last_from_client == Via.SMS:
        sms_reply_queue(message=instance)
