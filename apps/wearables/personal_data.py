"""What apps.wearables holds about a person, for export and erasure (apps.privacy): their
connections (never the tokens), every row their providers sent, their nutrition target (not who
set it), their Apple Health uploads and HealthKit samples. All of it is about the person only,
so erasure deletes it, an upload's stored files included."""

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
personal_data.register(
    "wearables.NutritionTarget",
    user_path="client__user",
    export_fields=["id", "calories_kcal", "protein_g", "carbohydrate_g", "fat_g", "updated_at"],
)
# The upload's row; its stored parts (the raw export.zip) are deleted with it
# (apps.wearables.signals) and not exported: what was read from them is, in the rows above.
personal_data.register(
    "wearables.HealthExport",
    user_path="client__user",
    export_fields=[
        "id",
        "status",
        "file_name",
        "size_bytes",
        "received_bytes",
        "records_stored",
        "error",
        "created_at",
        "updated_at",
    ],
)
personal_data.register("wearables.HealthSample", user_path="client__user")
