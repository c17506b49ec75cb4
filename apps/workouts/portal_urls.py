"""Portal pages (mounted under /portal/workouts/, in the portal namespace)."""

urlpatterns: list = []
