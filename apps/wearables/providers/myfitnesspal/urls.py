"""Staff pages for nutrition (under /wearables/nutrition/, in the wearables namespace)."""

from django.urls import path

from apps.wearables.providers.myfitnesspal import views

urlpatterns = [
    path("<int:client_id>/", views.nutrition_client, name="nutrition_client"),
    path(
        "<int:client_id>/targets/",
        views.nutrition_client_targets,
        name="nutrition_client_targets",
    ),
    path("<int:client_id>/import/", views.nutrition_client_import, name="nutrition_client_import"),
]
