"""Class pages of the staff app, under /schedule/classes/ (namespace "scheduling")."""

from django.urls import path

from apps.scheduling.classes import views

urlpatterns = [
    path("classes/", views.class_list, name="class_list"),
    path("classes/types/", views.class_type_list, name="class_type_list"),
    path("classes/types/new/", views.class_type_create, name="class_type_create"),
    path("classes/types/<int:pk>/", views.class_type_update, name="class_type_update"),
    path("classes/timetable/new/", views.timetable_create, name="timetable_create"),
    path("classes/<int:pk>/", views.class_roster, name="class_roster"),
    path("classes/<int:pk>/edit/", views.class_edit, name="class_edit"),
    path("classes/<int:pk>/cancel/", views.class_cancel, name="class_cancel"),
    path("classes/<int:pk>/book/", views.class_book_client, name="class_book_client"),
    path("classes/<int:pk>/book/clients/", views.class_book_search, name="class_book_search"),
    path("classes/bookings/<int:pk>/check-in/", views.class_check_in, name="class_check_in"),
    path(
        "classes/bookings/<int:pk>/cancel/", views.class_booking_cancel, name="class_booking_cancel"
    ),
    path("classes/bookings/<int:pk>/no-show/", views.class_mark_no_show, name="class_mark_no_show"),
]
