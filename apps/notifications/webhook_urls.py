"""Email providers' tracking webhooks on the public host, /integrations/email/<esp>/tracking/:
anymail's own views (they check the provider's signature or basic auth), answering 404 until
the operator has configured their secret, so an unauthenticated endpoint never exists."""

from __future__ import annotations

from typing import Any

from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def _guarded(view_class: Any, *secrets: str) -> Any:
    view = view_class.as_view()

    @csrf_exempt
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        configured = getattr(settings, "ANYMAIL", {})
        if not any(configured.get(name) for name in secrets):
            raise Http404
        return view(request, *args, **kwargs)

    return guarded


urlpatterns = [
    path(
        "postmark/tracking/",
        _guarded(PostmarkTrackingWebhookView, "WEBHOOK_SECRET"),
        name="email_postmark_tracking",
    ),
    path(
        "mailgun/tracking/",
        _guarded(MailgunTrackingWebhookView, "MAILGUN_WEBHOOK_SIGNING_KEY", "WEBHOOK_SIGNING_KEY"),
        name="email_mailgun_tracking",
    ),
    path(
        "sendgrid/tracking/",
        _guarded(SendGridTrackingWebhookView, "WEBHOOK_SECRET"),
        name="email_sendgrid_tracking",
    ),
]
