"""Staff pages of scheduling, under /schedule/ (namespace "scheduling")."""

from django.urls import include, path

app_name = "scheduling"

urlpatterns = [
    path("", include("apps.scheduling.calendar_urls")),
    path("", include("apps.scheduling.checkin_urls")),
]
