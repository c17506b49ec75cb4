"""The platform account's Stripe webhook on the public host."""

from django.urls import path

from apps.platform_billing import views

app_name = "platform_billing_public"

urlpatterns = [path("webhook/", views.webhook, name="webhook")]
