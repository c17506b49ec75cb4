from django.urls import path

from apps.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("list/", views.conversation_list, name="list"),
    path("clients/", views.client_search, name="client_search"),
    path("start/", views.start, name="start"),
    path("groups/new/", views.group_new, name="group_new"),
    path("<int:pk>/", views.thread, name="thread"),
    path("<int:pk>/messages/", views.thread_messages, name="messages"),
    path("<int:pk>/send/", views.send, name="send"),
    path("<int:pk>/mute/", views.mute, name="mute"),
    path("message/<int:pk>/edit/", views.message_edit, name="edit"),
    path("message/<int:pk>/delete/", views.message_delete, name="delete"),
]
