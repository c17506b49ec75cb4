"""The portal's memberships page (mounted under /portal/memberships/, portal namespace)."""

from django.urls import path

from apps.billing import views

urlpatterns = [
    path("", views.portal_memberships, name="memberships"),
    path("buy/", views.portal_buy, name="memberships_buy"),
    path("cards/", views.portal_cards, name="memberships_cards"),
]
