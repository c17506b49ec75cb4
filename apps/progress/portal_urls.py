"""Portal pages (mounted under /portal/progress/, in the portal namespace)."""

from django.urls import path

from apps.progress import views

urlpatterns = [
    path("", views.portal_progress, name="progress"),
    path("measurements/add/", views.portal_measurement_add, name="progress_measurement_add"),
    path("photos/add/", views.portal_photo_add, name="progress_photo_add"),
    path("compare/", views.portal_compare, name="progress_compare"),
    path("units/", views.portal_units, name="progress_units"),
    path(
        "measurements/<int:pk>/delete/",
        views.portal_measurement_delete,
        name="progress_measurement_delete",
    ),
    path("photos/<int:pk>/delete/", views.portal_photo_delete, name="progress_photo_delete"),
]
