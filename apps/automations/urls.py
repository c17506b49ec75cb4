from django.urls import path

from apps.automations import views

app_name = "automations"

urlpatterns = [
    path("automations/", views.rule_list, name="rule_list"),
    path("automations/new/", views.rule_create, name="rule_create"),
    path("automations/ready-made/", views.preset_add, name="preset_add"),
    path("automations/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("automations/<int:pk>/switch/", views.rule_toggle, name="rule_toggle"),
    path("automations/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("automations/<int:pk>/runs/", views.rule_runs, name="rule_runs"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("tasks/<int:pk>/delete/", views.task_delete, name="task_delete"),
]
