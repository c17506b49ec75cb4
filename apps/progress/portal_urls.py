"""Portal pages (mounted under /portal/, in the portal namespace)."""

urlpatterns: list = []
