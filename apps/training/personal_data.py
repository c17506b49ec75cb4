"""What training holds about a person, for export and erasure (apps.privacy).

A client's plan (a copy of a template, assigned to them) and its scheduled workouts are the
client's data: exported, and deleted on erasure. Templates belong to the gym and name nobody.
"""

from __future__ import annotations

from apps.privacy.registry import personal_data

personal_data.register("training.WorkoutPlan", user_path="client__user")
# What the plan prescribes (trainers' notes on the client's days and exercises included).
personal_data.register("training.PlanPhase", user_path="plan__client__user")
personal_data.register("training.PlanWeek", user_path="plan__client__user")
personal_data.register("training.PlanDay", user_path="week__plan__client__user")
personal_data.register("training.PlanItem", user_path="day__week__plan__client__user")
personal_data.register("training.ScheduledWorkout", user_path="client__user")
