"""Staff pages of progress (mounted under /progress/), and the photo files for everyone."""

from django.urls import path

from apps.progress import views

app_name = "progress"

urlpatterns = [
    path("clients/<int:client_id>/", views.client_progress, name="client_progress"),
    path(
        "clients/<int:client_id>/measurements/add/",
        views.measurement_add,
        name="measurement_add",
    ),
    path("clients/<int:client_id>/photos/add/", views.photo_add, name="photo_add"),
    path("clients/<int:client_id>/compare/", views.compare, name="compare"),
    path("clients/<int:client_id>/units/", views.units, name="units"),
    path("measurements/<int:pk>/delete/", views.measurement_delete, name="measurement_delete"),
    path("photos/<int:pk>/delete/", views.photo_delete, name="photo_delete"),
    # Staff and clients alike: the selector decides who may see which photo.
    path("photos/<int:pk>/file/", views.photo_file, name="photo_file"),
]
