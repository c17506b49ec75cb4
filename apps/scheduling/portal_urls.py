"""Portal pages of scheduling (mounted under /portal/schedule/, portal namespace)."""

urlpatterns: list = []
