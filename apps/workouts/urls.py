from django.urls import path

from apps.workouts import views

app_name = "workouts"

urlpatterns = [
    path("clients/<int:client_id>/", views.client_progress, name="client_progress"),
    path("clients/<int:client_id>/target/", views.weekly_target, name="weekly_target"),
]
