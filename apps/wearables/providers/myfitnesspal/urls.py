"""Staff pages for myfitnesspal (under /wearables/nutrition/)."""

urlpatterns: list = []
