"""What apps.wearables holds about a person, for export and erasure (apps.privacy): their
connections (never the tokens) and every row their providers sent. All of it is about the
person only, so erasure deletes it."""

from __future__ import annotations

from apps.privacy.registry import personal_data

personal_data.register(
    "wearables.Connection",
    user_path="client__user",
    export_fields=[
        "id",
        "provider",
        "provider_user_id",
        "status",
        "kinds",
        "scopes",
        "last_sync_at",
        "created_at",
    ],
)
for _model in ("DailyActivity", "HeartRateDay", "SleepSession", "ExternalWorkout", "NutritionDay"):
    personal_data.register(f"wearables.{_model}", user_path="client__user")
