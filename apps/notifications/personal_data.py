"""What the notification service holds about a person, for export and erasure. The delivery
log keeps its rows (what was sent, when, how it went) without the address or the words."""

from __future__ import annotations

from apps.privacy.registry import personal_data

personal_data.register("notifications.Notification", user_path="recipient")
personal_data.register("notifications.Preference", user_path="user")
personal_data.register(
    "notifications.PushSubscription",
    user_path="user",
    export_fields=["id", "user_agent", "created_at"],
)
personal_data.register(
    "notifications.Delivery",
    user_path="recipient_user",
    export_fields=[
        "id",
        "channel",
        "kind",
        "address",
        "subject",
        "body",
        "status",
        "created_at",
        "sent_at",
    ],
    erase="anonymise",
    anonymise={
        "address": "",
        "subject": "",
        "body": "",
        "html": "",
        "secret_content": "",
        "url": "",
        "error": "",
    },
)
