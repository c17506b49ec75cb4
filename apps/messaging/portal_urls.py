"""The portal's Messages (under /portal/messages/, names "portal:messaging_*"; the portal's
navigation shows the entry once "portal:messaging_inbox" resolves)."""

from django.urls import path

from apps.messaging import views

urlpatterns = [
    path("", views.portal_inbox, name="messaging_inbox"),
    path("list/", views.portal_conversation_list, name="messaging_list"),
    path("start/", views.portal_start, name="messaging_start"),
    path("<int:pk>/", views.portal_thread, name="messaging_thread"),
    path("<int:pk>/messages/", views.portal_thread_messages, name="messaging_messages"),
    path("<int:pk>/send/", views.portal_send, name="messaging_send"),
    path("<int:pk>/mute/", views.portal_mute, name="messaging_mute"),
    path("message/<int:pk>/edit/", views.portal_message_edit, name="messaging_edit"),
    path("message/<int:pk>/delete/", views.portal_message_delete, name="messaging_delete"),
]
