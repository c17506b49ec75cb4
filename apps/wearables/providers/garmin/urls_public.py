"""garmin callbacks on the public host (under /integrations/garmin/)."""

app_name = "wearables_garmin"

urlpatterns: list = []
