"""Booking policy pages under /schedule/ (namespace "scheduling", set by apps.scheduling.urls)."""

from django.urls import path

from apps.scheduling.policies import views

urlpatterns = [
    path("policies/", views.policies, name="policies"),
    path("policies/strikes/<int:pk>/waive/", views.strike_waive, name="strike_waive"),
]
