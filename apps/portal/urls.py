from django.urls import include, path

from apps.portal import views

app_name = "portal"

# Scheduling and progress pages join the portal's navigation by registering the URL names
# "portal:schedule" and "portal:progress" here (templates/portal/base.html shows them then).
urlpatterns = [
    path("", views.home, name="home"),
    path("profile/", views.profile, name="profile"),
    path("offline/", views.offline, name="offline"),
    path("schedule/", include("apps.scheduling.portal.urls")),
    path("workouts/", include("apps.workouts.portal_urls")),
    path("progress/", include("apps.progress.portal_urls")),
    path("memberships/", include("apps.billing.portal_urls")),
    path("notifications/", include("apps.notifications.portal_urls")),
    path("messages/", include("apps.messaging.portal_urls")),
    path("activity/", include("apps.wearables.portal_urls")),
]
