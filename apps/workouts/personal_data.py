"""What workouts hold about a person, for export and erasure (apps.privacy).

A client's training history is about them only: erasure deletes it (sets and cardio go with
their workout log)."""

from __future__ import annotations

from apps.privacy.registry import personal_data

personal_data.register("workouts.WorkoutLog", user_path="client__user")
personal_data.register("workouts.SetLog", user_path="log__client__user")
personal_data.register("workouts.CardioLog", user_path="log__client__user")
personal_data.register("workouts.WeeklyTarget", user_path="client__user")
