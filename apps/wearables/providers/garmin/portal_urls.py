"""Portal pages for garmin (under /portal/activity/garmin/, in the portal namespace)."""

urlpatterns: list = []
