"""Staff pages of scheduling, under /schedule/ (namespace "scheduling")."""

from django.urls import include, path

app_name = "scheduling"

urlpatterns = [
    path("", include("apps.scheduling.calendar.urls")),
    path("", include("apps.scheduling.checkin.urls")),
    path("", include("apps.scheduling.classes.urls")),
    path("", include("apps.scheduling.policies.urls")),
]
