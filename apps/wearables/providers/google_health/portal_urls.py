"""Portal pages for google_health (under /portal/activity/google-health/, portal namespace)."""

urlpatterns: list = []
