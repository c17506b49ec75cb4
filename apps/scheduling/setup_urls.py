"""Gym settings pages, under /settings/ (namespace "gym_settings")."""

app_name = "gym_settings"

urlpatterns: list = []
