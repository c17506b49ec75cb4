"""Staff pages of apps.wearables (under /wearables/)."""

from django.urls import include, path

app_name = "wearables"

urlpatterns = [
    path("nutrition/", include("apps.wearables.providers.myfitnesspal.urls")),
]
