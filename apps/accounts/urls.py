from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke_view, name="invitation_revoke"),
    path("invitation/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("team/", views.team, name="team"),
    path("team/<int:pk>/role/", views.change_role, name="change_role"),
]
