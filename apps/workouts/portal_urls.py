"""Portal pages (mounted under /portal/workouts/, in the portal namespace)."""

from django.urls import path

from apps.workouts import portal_views

urlpatterns = [
    path("", portal_views.workout_list, name="workouts"),
    path("start/", portal_views.workout_start, name="workout_start"),
    path("<int:log_id>/", portal_views.workout_log, name="workout_log"),
    path("<int:log_id>/sets/", portal_views.set_log, name="workout_set_log"),
    path(
        "<int:log_id>/sets/<int:set_id>/delete/",
        portal_views.set_delete,
        name="workout_set_delete",
    ),
    path("<int:log_id>/cardio/", portal_views.cardio_log, name="workout_cardio_log"),
    path("<int:log_id>/skip/", portal_views.exercise_skip, name="workout_skip"),
    path("<int:log_id>/complete/", portal_views.workout_complete, name="workout_complete"),
]
