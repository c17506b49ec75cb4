"""Gym settings pages, under /settings/ (namespace "gym_settings")."""

from django.urls import path

from apps.scheduling.gym_settings import views

app_name = "gym_settings"

urlpatterns = [
    path("", views.index, name="index"),
    path("profile/", views.profile, name="profile"),
    path("identity/", views.identity, name="identity"),
    path("hours/", views.hours, name="hours"),
    path("hours/week/", views.hours_week, name="hours_week"),
    path("hours/add/", views.hours_add, name="hours_add"),
    path("hours/<int:pk>/delete/", views.hours_delete, name="hours_delete"),
    path("hours/special/", views.special_day_add, name="special_day_add"),
    path("hours/special/<int:pk>/delete/", views.special_day_delete, name="special_day_delete"),
    path("locations/", views.location_list, name="location_list"),
    path("locations/new/", views.location_create, name="location_create"),
    path("locations/<int:pk>/edit/", views.location_edit, name="location_edit"),
    path("locations/<int:pk>/delete/", views.location_delete, name="location_delete"),
    path("locations/<int:location_pk>/rooms/new/", views.room_create, name="room_create"),
    path("rooms/<int:pk>/edit/", views.room_edit, name="room_edit"),
    path("rooms/<int:pk>/delete/", views.room_delete, name="room_delete"),
    path("availability/", views.availability_list, name="availability_list"),
    path("availability/<int:pk>/", views.availability, name="availability"),
    path("availability/<int:pk>/windows/", views.availability_add, name="availability_add"),
    path(
        "availability/<int:pk>/windows/<int:window_pk>/delete/",
        views.availability_delete,
        name="availability_delete",
    ),
    path("availability/<int:pk>/exceptions/", views.exception_add, name="exception_add"),
    path(
        "availability/<int:pk>/exceptions/<int:exception_pk>/delete/",
        views.exception_delete,
        name="exception_delete",
    ),
]
