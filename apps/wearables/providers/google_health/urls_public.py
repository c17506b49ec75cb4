"""google_health callbacks on the public host (under /integrations/google_health/)."""

app_name = "wearables_google_health"

urlpatterns: list = []
