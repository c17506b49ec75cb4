"""The owner's FitnessCRM subscription on the gym's host."""

from django.urls import path

from apps.platform_billing import views

app_name = "platform_billing"

urlpatterns = [
    path("", views.subscription, name="subscription"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("card/", views.update_card, name="update_card"),
]
