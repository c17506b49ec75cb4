"""Portal pages for myfitnesspal (under /portal/activity/myfitnesspal/, in the portal namespace)."""

urlpatterns: list = []
