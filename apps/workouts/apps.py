from django.apps import AppConfig


class WorkoutsConfig(AppConfig):
    name = "apps.workouts"
    label = "workouts"
    verbose_name = "Workouts"

    def ready(self) -> None:
        from apps.workouts import personal_data  # noqa: F401  (registers personal data)
