from django.urls import path

from apps.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("audience-count/", views.audience_count, name="audience_count"),
    path("<int:pk>/", views.campaign_edit, name="edit"),
    path("<int:pk>/preview/", views.campaign_preview, name="preview"),
    path("<int:pk>/test/", views.campaign_test, name="test"),
    path("<int:pk>/send/", views.campaign_send, name="send"),
    path("<int:pk>/schedule/", views.campaign_schedule, name="schedule"),
    path("<int:pk>/cancel/", views.campaign_cancel, name="cancel"),
    path("<int:pk>/figures/", views.campaign_figures, name="figures"),
    path("audiences/new/", views.segment_create, name="segment_create"),
    path("audiences/count/", views.segment_count, name="segment_count"),
    path("audiences/<int:pk>/", views.segment_edit, name="segment_edit"),
    path("audiences/<int:pk>/delete/", views.segment_delete, name="segment_delete"),
    # The links in campaign mail: no login, signed per recipient (apps/campaigns/links.py).
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("r/<str:token>/", views.click, name="click"),
]
