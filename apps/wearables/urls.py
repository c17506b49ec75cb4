"""Staff pages of apps.wearables (under /wearables/)."""

from django.urls import include, path

from apps.wearables import views

app_name = "wearables"

urlpatterns = [
    path("nutrition/", include("apps.wearables.providers.myfitnesspal.urls")),
    path("sync/", views.overview, name="overview"),
    path("connections/<int:pk>/sync/", views.connection_sync, name="connection_sync"),
    path("<int:client_id>/invite/", views.connect_invite, name="connect_invite"),
]
