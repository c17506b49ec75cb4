"""Portal pages for apple_health (under /portal/activity/apple-health/, in the portal namespace)."""

urlpatterns: list = []
