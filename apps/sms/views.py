"""SMS pages and callbacks. On the gym's host: the SMS settings (the Messaging Service, a test
send, recent texts). On the public host: Twilio's delivery reports and inbound texts, answered
only when Twilio's signature is right."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.twiml.messaging_response import MessagingResponse

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.core.forms import add_service_errors
from apps.sms import gateway, services
from apps.sms.forms import MessagingServiceForm, TestSendForm
from apps.sms.selectors import gym_for_messaging_service, messaging_service_for_gym
from apps.tenants.models import Gym
from apps.tenants.selectors import gym_is_served

logger = logging.getLogger(__name__)

MANAGEMENT = (Role.OWNER, Role.MANAGER)
RECENT_TEXTS = 10


# --- The gym's host: the settings page ----------------------------------------------------------


def _recent_texts() -> list:
    from apps.notifications.models import Delivery

    return list(
        Delivery.objects.filter(channel="sms")
        .only("address", "kind", "status", "error", "created_at", "sent_at", "provider_id")
        .order_by("-created_at", "-pk")[:RECENT_TEXTS]
    )


def _page(
    request: HttpRequest,
    *,
    form: MessagingServiceForm | None = None,
    test_form: TestSendForm | None = None,
    status: int = 200,
) -> HttpResponse:
    gym = request.tenant  # type: ignore[attr-defined]
    service = messaging_service_for_gym(gym=gym)
    if form is None:
        initial = (
            {"service_sid": service.service_sid, "sender_number": service.sender_number}
            if service
            else {}
        )
        form = MessagingServiceForm(initial=initial)
    return render(
        request,
        "sms/settings.html",
        {
            "gym": gym,
            "service": service,
            "platform_configured": gateway.is_platform_configured(),
            "form": form,
            "test_form": test_form or TestSendForm(),
            "inbound_url": gateway.inbound_url(),
            "segment_price": gateway.segment_price(),
            "price_currency": gateway.cost_estimate("", recipients=0).currency,
            "texts": _recent_texts() if service else [],
        },
        status=status,
    )


@never_cache
@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def sms_settings(request: HttpRequest) -> HttpResponse:
    """The gym's Messaging Service: shown, set, changed."""
    if request.method != "POST":
        return _page(request)
    form = MessagingServiceForm(request.POST)
    if form.is_valid():
        try:
            services.messaging_service_configure(
                gym=request.tenant,  # type: ignore[attr-defined]
                actor=request.user,
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Texts are set up. Send yourself a test."))
            return HttpResponseRedirect(reverse("sms:settings"))
    return _page(request, form=form, status=400)


@never_cache
@role_required(*MANAGEMENT)
@require_POST
def test_send(request: HttpRequest) -> HttpResponse:
    """A test text to the number typed: what Twilio said is on the page and in the log."""
    form = TestSendForm(request.POST)
    if form.is_valid():
        try:
            delivery = services.sms_test_send(actor=request.user, to=form.cleaned_data["to"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if delivery.status == "sent":
                messages.success(request, _("Test text sent. It should arrive in a moment."))
            else:
                messages.error(
                    request,
                    _("The test text was not sent: %(reason)s") % {"reason": delivery.error},
                )
            return HttpResponseRedirect(reverse("sms:settings"))
    return _page(request, test_form=form, status=400)


@never_cache
@role_required(*MANAGEMENT)
@require_POST
def remove(request: HttpRequest) -> HttpResponse:
    if services.messaging_service_remove(
        gym=request.tenant,  # type: ignore[attr-defined]
        actor=request.user,
    ):
        messages.success(request, _("Texts are switched off. Nothing more is sent by SMS."))
    return HttpResponseRedirect(reverse("sms:settings"))


# --- The public host: Twilio's callbacks --------------------------------------------------------


def _twiml(reply: str = "") -> HttpResponse:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return HttpResponse(str(response), content_type="application/xml")


def _served(gym: Gym | None) -> Gym | None:
    return gym if gym is not None and gym_is_served(gym) else None


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest) -> HttpResponse:
    """Twilio's report on one text's progress (queued, sent, delivered, failed...)."""
    if not gateway.signature_valid(request):
        return HttpResponseForbidden("bad signature")
    schema = request.GET.get("gym", "")
    gym = (
        Gym.objects.filter(schema_name=schema).first()
        if schema
        else gym_for_messaging_service(service_sid=request.POST.get("MessagingServiceSid", ""))
    )
    gym = _served(gym)
    if gym is None:
        logger.info("A Twilio status callback named no gym we serve")
        return HttpResponse(status=204)
    services.sms_status_receive(gym=gym, params=request.POST.dict())
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    """A text someone sent to a gym's Messaging Service (its "incoming messages" URL)."""
    if not gateway.signature_valid(request):
        return HttpResponseForbidden("bad signature")
    gym = _served(
        gym_for_messaging_service(service_sid=request.POST.get("MessagingServiceSid", ""))
    )
    if gym is None:
        logger.info("An inbound text named no gym's Messaging Service")
        return _twiml()
    reply = services.sms_inbound_receive(gym=gym, params=request.POST.dict())
    return _twiml(reply)
