from django.urls import path

from apps.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("<int:pk>/columns/", views.mapping, name="mapping"),
    path("<int:pk>/check/", views.preview, name="preview"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/", views.job_detail, name="job"),
    path("<int:pk>/progress/", views.progress, name="progress"),
]
