from django.urls import path

from apps.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.my_data, name="my_data"),
    path("export/", views.my_data_export, name="my_data_export"),
    path("users/<int:pk>/export/", views.user_export, name="user_export"),
    path("users/<int:pk>/erase/", views.user_erase, name="user_erase"),
]
