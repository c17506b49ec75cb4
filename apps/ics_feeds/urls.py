from django.urls import path

from apps.ics_feeds import views

app_name = "calendars"

urlpatterns = [
    path("", views.feed_settings, name="settings"),
    path("<str:token>.ics", views.feed, name="feed"),
]
