"""Staff pages of the exercise library and plans, under /training/."""

from django.urls import path

from apps.training import views

app_name = "training"

urlpatterns = [
    path("exercises/", views.exercise_list, name="exercise_list"),
    path("exercises/new/", views.exercise_create, name="exercise_create"),
    path("exercises/picker/", views.exercise_picker, name="exercise_picker"),
    path("exercises/<int:pk>/", views.exercise_detail, name="exercise_detail"),
    path("exercises/<int:pk>/edit/", views.exercise_edit, name="exercise_edit"),
    path("exercises/<int:pk>/active/", views.exercise_active, name="exercise_active"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/assign/", views.plan_assign, name="plan_assign"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/copy/", views.plan_copy, name="plan_copy"),
    path("plans/<int:pk>/archive/", views.plan_archive, name="plan_archive"),
    path("plans/<int:pk>/phases/", views.phase_add, name="phase_add"),
    path("phases/<int:pk>/<str:what>/", views.phase_action, name="phase_action"),
    path("weeks/<int:pk>/<str:what>/", views.week_action, name="week_action"),
    path("days/<int:pk>/<str:what>/", views.day_action, name="day_action"),
    path("items/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("items/<int:pk>/<str:what>/", views.item_action, name="item_action"),
]
