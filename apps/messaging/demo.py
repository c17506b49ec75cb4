"""The demo gym's messages: the demo client's conversations with the gym and with their
trainer, and a few other clients writing to the front desk, so the inbox and the unread
counts have something to show. Safe to run again: nothing is added once messages exist."""

from __future__ import annotations

from apps.accounts.models import Role, User
from apps.crm.models import Assignment, Client
from apps.messaging import services
from apps.messaging.models import Message, Via

GYM_QUESTIONS = (
    "Hi! Is the sauna open on Sunday?",
    "Can I freeze my membership for two weeks in August?",
    "I left my water bottle in the spin studio yesterday.",
)


def seed_messages(*, owner: User) -> dict[str, int]:
    if Message.objects.exists():
        return {"conversations": 0, "messages": 0}
    posted = 0
    conversations = 0
    desk = User.objects.filter(role=Role.FRONT_DESK, is_active=True).first() or owner
    demo_client = Client.objects.filter(user__email="client@demo.example").first()
    if demo_client is not None:
        gym = services.conversation_with_gym(client=demo_client, actor=owner)
        services.post_message(
            conversation=gym, sender_user=desk, body="Welcome to the gym! Ask us anything here."
        )
        posted += 1
        conversations += 1
        assignment = (
            Assignment.objects.filter(client=demo_client, ends_on__isnull=True)
            .select_related("trainer__user")
            .first()
        )
        if assignment is not None:
            coach = assignment.trainer.user
            talk = services.conversation_with_trainer(client=demo_client, trainer=coach)
            for sender, body in (
                (coach, "Great session today. Same time on Thursday?"),
                (demo_client.user, "Yes please! My legs are sore already."),
                (coach, "That's the idea. Stretch tonight and drink plenty of water."),
            ):
                services.post_message(conversation=talk, sender_user=sender, body=body)
                posted += 1
            conversations += 1
    others = Client.objects.filter(user__isnull=True).exclude(phone="").order_by("pk")[:3]
    for client, question in zip(others, GYM_QUESTIONS, strict=False):
        conversation = services.conversation_with_gym(client=client, actor=owner)
        services.post_message(
            conversation=conversation, sender_client=client, body=question, via=Via.SMS
        )
        posted += 1
        conversations += 1
    return {"conversations": conversations, "messages": posted}
