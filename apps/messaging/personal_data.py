"""What messaging holds about a person, for export and erasure (apps.privacy): the messages a
client wrote. Their conversations with the gym and their trainers go with their client record
(cascade); erasure deletes what they wrote in groups too."""

from __future__ import annotations

from apps.privacy.registry import personal_data

personal_data.register(
    "messaging.Message",
    user_path="sender_client__user",
    export_fields=["id", "conversation_id", "body", "via", "created_at", "edited_at", "deleted_at"],
)
