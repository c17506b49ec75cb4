"""The CRM pages of a gym's host. Included at the root of urls_tenant, so each path carries its
own prefix; `clients/import/` and `clients/export.csv` belong to the import/export module."""

from django.urls import path

from apps.crm import views

app_name = "crm"

urlpatterns = [
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/bulk/", views.client_bulk, name="client_bulk"),
    path("clients/<int:pk>/", views.client_detail, name="client_detail"),
    path("clients/<int:pk>/edit/", views.client_edit, name="client_edit"),
    path("clients/<int:pk>/notes/", views.note_add, name="note_add"),
    path("clients/<int:pk>/trainers/", views.assignment_add, name="assignment_add"),
    path(
        "clients/<int:pk>/trainers/<int:assignment_pk>/end/",
        views.assignment_end,
        name="assignment_end",
    ),
    path("trainers/", views.trainer_list, name="trainer_list"),
    path("trainers/new/", views.trainer_create, name="trainer_create"),
    path("trainers/<int:pk>/", views.trainer_detail, name="trainer_detail"),
    path(
        "trainers/<int:pk>/certifications/",
        views.certification_add,
        name="certification_add",
    ),
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="lead_convert"),
    path("leads/<int:pk>/status/", views.lead_status, name="lead_status"),
    path("join/", views.join, name="join"),
    path("join/thanks/", views.join_thanks, name="join_thanks"),
]
