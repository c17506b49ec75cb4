"""Portal pages for MyFitnessPal (under /portal/activity/myfitnesspal/, in the portal namespace)."""

from django.urls import path

from apps.wearables.providers.myfitnesspal import views

urlpatterns = [
    path("", views.portal_myfitnesspal, name="activity_myfitnesspal"),
]
