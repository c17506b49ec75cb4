"""Writes of the SMS side: a gym's Messaging Service, opt-outs and opt-ins (STOP, START), and
what Twilio's callbacks change in a gym: delivery reports and inbound texts (a client's go to
their conversation with the gym, anyone else's to a lead: the one with that number, or a new
one, and the staff who handle leads hear of it)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import tenant_context

from apps.audit.services import audit_record
from apps.core.constraints import field_error_for_constraint
from apps.core.services import model_save
from apps.sms import gateway
from apps.sms.models import GymMessagingService
from apps.sms.selectors import clients_with_phone
from apps.tenants.models import Gym

logger = logging.getLogger(__name__)

# Twilio's default opt-out, opt-in and help keywords (a text that is exactly one of them,
# whatever its case); a gym's Advanced Opt-Out may add more on Twilio's side.
STOP_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
START_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

# Twilio's message statuses as the delivery log's; others (receiving, received) are not about
# a send.
STATUS_FROM_TWILIO = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
# A report that finds no delivery yet is tried again this many times, 15 s, 30 s, 45 s later.
STATUS_RETRIES = 3
STATUS_RETRY_SECONDS = 15
# An inbound text is handled once even if Twilio posts it again (a retry after a timeout).
INBOUND_SEEN_SECONDS = 2 * 24 * 3600

field_error_for_constraint(
    "sms_gymmessagingservice_service_sid_key",
    field="service_sid",
    message=gettext_lazy("This Messaging Service is already used by another gym."),
)


def keyword_of(body: str) -> str:
    """The keyword a text is, if it is one word: upper case, without surrounding spaces and
    trailing punctuation ("stop." is STOP)."""
    return re.sub(r"[\s.!?]+$", "", (body or "").strip()).upper()


# --- The gym's Messaging Service ---------------------------------------------------------------


@transaction.atomic
def messaging_service_configure(
    *, gym: Gym, actor: Any, service_sid: str, sender_number: str = ""
) -> GymMessagingService:
    """Set the gym's Messaging Service (and the number it sends from, if it names one)."""
    service_sid = (service_sid or "").strip()
    sender = gateway.normalise_phone(sender_number, field="sender_number") if sender_number else ""
    row = GymMessagingService.objects.select_for_update().filter(gym=gym).first()
    before = {"service_sid": row.service_sid, "sender_number": row.sender_number} if row else {}
    if row is None:
        row = GymMessagingService(gym=gym)
    row.service_sid = service_sid
    row.sender_number = sender
    try:
        model_save(row, exclude=["gym"])
    except ValidationError as error:
        # The unique check's own message names the model; ours says what it means.
        if "service_sid" in getattr(error, "error_dict", {}) and any(
            e.code == "unique" for e in error.error_dict["service_sid"]
        ):
            raise ValidationError(
                {"service_sid": [_("This Messaging Service is already used by another gym.")]}
            ) from error
        raise
    with tenant_context(gym):
        audit_record(
            action="sms.service_configured",
            actor=actor,
            object_type="sms.gymmessagingservice",
            object_id=str(row.pk),
            changes={
                "service_sid": {"before": before.get("service_sid"), "after": row.service_sid},
                "sender_number": {"before": before.get("sender_number"), "after": sender},
            },
        )
    return row


@transaction.atomic
def messaging_service_remove(*, gym: Gym, actor: Any) -> bool:
    """Stop texting for the gym: sends are refused and callbacks no longer find it."""
    row = GymMessagingService.objects.filter(gym=gym).first()
    if row is None:
        return False
    row.delete()
    with tenant_context(gym):
        audit_record(
            action="sms.service_removed",
            actor=actor,
            object_type="sms.gymmessagingservice",
            object_id=row.service_sid,
        )
    return True


# --- Opt-outs -----------------------------------------------------------------------------------


def _consent_record(client: Any, *, granted: bool) -> None:
    from apps.crm.models import Consent, ConsentKind

    Consent.objects.create(client=client, kind=ConsentKind.SMS, granted=granted)


def _latest_sms_consent(client: Any) -> bool | None:
    from apps.crm.models import ConsentKind

    latest = client.consents.filter(kind=ConsentKind.SMS).order_by("-recorded_at", "-pk").first()
    return latest.granted if latest is not None else None


@transaction.atomic
def sms_number_suppress(*, phone: str, reason: str = "stop", detail: str = "") -> bool:
    """In the current gym: no later text may reach `phone` (it replied STOP, or Twilio said it
    had: 21610), and the SMS consent of each client with that number is withdrawn. True when
    the number was not suppressed before."""
    from apps.notifications.models import Suppression

    _, created = Suppression.objects.get_or_create(
        channel="sms", address=phone, defaults={"reason": reason, "detail": detail[:255]}
    )
    for client in clients_with_phone(phone=phone):
        if _latest_sms_consent(client) is not False:
            _consent_record(client, granted=False)
        if created:
            audit_record(
                action="sms.opted_out",
                actor=None,
                obj=client,
                changes={"sms": {"before": None, "after": False}},
            )
    return created


@transaction.atomic
def sms_number_unsuppress(*, phone: str) -> bool:
    """In the current gym: `phone` replied START: texts may reach it again, and each client
    with that number who had withdrawn their SMS consent gives it again. True when the number
    was suppressed."""
    from apps.notifications.models import Suppression

    deleted, _count = Suppression.objects.filter(channel="sms", address=phone).delete()
    for client in clients_with_phone(phone=phone):
        if _latest_sms_consent(client) is False:
            _consent_record(client, granted=True)
            audit_record(
                action="sms.opted_in",
                actor=None,
                obj=client,
                changes={"sms": {"before": False, "after": True}},
            )
    return bool(deleted)


# --- Sending and its record ----------------------------------------------------------------------


def sms_deliver(
    *,
    to: str,
    body: str,
    event_key: str,
    kind: str,
    client: Any = None,
    user: Any = None,
    category: str = "transactional",
) -> Any:
    """Send `body` to `to` once for `event_key`, recorded in the delivery log (the same row
    gets Twilio's delivery reports). A second call for the same event sends nothing. Refusals
    are recorded on the row, not raised, except a bad number or text (a ValidationError)."""
    from apps.notifications.models import Delivery

    gateway.require_e164(to, field="to")
    with transaction.atomic():
        delivery, _created = Delivery.objects.get_or_create(
            channel="sms",
            event_key=event_key,
            defaults={
                "recipient_client": client,
                "recipient_user": user,
                "address": to,
                "kind": kind,
                "category": category,
                "body": body,
                "provider": "twilio",
            },
        )
        # Held while Twilio is asked: a concurrent call for the same event waits, then finds
        # the row sent.
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status != "queued":
            return delivery
        delivery.attempts += 1
        try:
            sid = gateway.send_sms(to=to, body=body)
        except gateway.SmsSuppressedError as error:
            delivery.status, delivery.error = "suppressed", error.reason
        except gateway.SmsInvalidNumberError:
            raise
        except gateway.SmsError as error:
            delivery.status, delivery.error = "failed", error.reason
        else:
            delivery.status, delivery.provider_id = "sent", sid
            delivery.sent_at = timezone.now()
            delivery.error = ""
        delivery.save(update_fields=["status", "provider_id", "sent_at", "error", "attempts"])
    return delivery


def sms_test_send(*, actor: Any, to: str) -> Any:
    """A test text from the gym's Messaging Service to `to`, in the delivery log."""
    from apps.tenants.selectors import current_gym

    to = gateway.normalise_phone(to, field="to")
    if not to:
        raise ValidationError({"to": [_("Enter the number to send the test to.")]})
    gym = current_gym()
    body = _("A test text from %(gym)s: texts to your clients work.") % {"gym": gym.name}
    delivery = sms_deliver(
        to=to, body=body, event_key=f"sms_test:{uuid.uuid4()}", kind="sms_test", user=actor
    )
    audit_record(
        action="sms.test_sent",
        actor=actor,
        object_type="notifications.delivery",
        object_id=str(delivery.pk),
        changes={"status": {"before": None, "after": delivery.status}},
    )
    return delivery


def sms_reply_queue(*, message: Any) -> Any:
    """A staff member's message in a client's conversation with the gym, when the client last
    wrote there by SMS: queued to go back to the client's number by SMS, once per message, on
    the notification service's delivery task (its retries and backoff). None when there is
    nothing to send (no text, no usable number)."""
    from apps.notifications.models import Delivery
    from apps.notifications.tasks import deliver

    client = message.conversation.client
    body = (message.body or "").strip()
    if client is None or not body or not gateway.is_e164(client.phone):
        return None
    delivery, created = Delivery.objects.get_or_create(
        channel="sms",
        event_key=f"message:{message.pk}",
        defaults={
            "recipient_client": client,
            "address": client.phone,
            "kind": "message_reply",
            "body": body[: gateway.MAX_BODY_LENGTH],
            "provider": "twilio",
        },
    )
    if created:
        transaction.on_commit(lambda: deliver.delay(delivery.pk))
    return delivery


# --- Twilio's callbacks ------------------------------------------------------------------------


def sms_status_receive(*, gym: Gym, params: Mapping[str, str]) -> None:
    """A delivery report for one of the gym's texts: its delivery row moves on (idempotent and
    safe out of order: apps.notifications.services.update_delivery never moves a delivered
    text back to sent), and an opt-out Twilio reports (21610) joins our list."""
    with tenant_context(gym):
        if error_code_of(params) == str(gateway.ERROR_OPTED_OUT) and gateway.is_e164(
            params.get("To")
        ):
            sms_number_suppress(phone=params["To"], detail="Twilio 21610")
        sms_status_apply(params=dict(params))
    GymMessagingService.objects.filter(gym=gym).update(last_status_at=timezone.now())


def error_code_of(params: Mapping[str, str]) -> str:
    return params.get("ErrorCode") or ""


def sms_status_apply(*, params: dict[str, str], attempt: int = 0) -> int:
    """In the current gym: the report's status on the delivery with its Message SID; how many
    rows it moved. A report can overtake the write of the SID it is about (the sender records
    the SID once Twilio has answered, and Twilio may report within that moment): one that
    finds no row is tried again a little later, a few times (apps.sms.tasks)."""
    from apps.notifications.services import update_delivery

    status = STATUS_FROM_TWILIO.get((params.get("MessageStatus") or "").lower())
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if status is None or not sid:
        return 0
    error = ""
    if error_code_of(params):
        error = f"Twilio {error_code_of(params)}"
        if params.get("ErrorMessage"):
            error += f": {params['ErrorMessage']}"
    matched = update_delivery(provider="twilio", provider_id=sid, status=status, error=error)
    if not matched and attempt < STATUS_RETRIES:
        from apps.sms.tasks import sms_status_retry

        transaction.on_commit(
            lambda: sms_status_retry.apply_async(
                (params, attempt + 1), countdown=STATUS_RETRY_SECONDS * (attempt + 1)
            )
        )
    return matched


def sms_inbound_receive(*, gym: Gym, params: Mapping[str, str]) -> str:
    """A text a person sent to the gym's Messaging Service. STOP and its synonyms suppress
    the number (and withdraw the SMS consent of its clients), START lifts that, HELP is
    answered with the gym's contact details; anything else lands in the client's conversation
    with the gym. The reply to send back (TwiML), or ""."""
    GymMessagingService.objects.filter(gym=gym).update(last_inbound_at=timezone.now())
    phone = params.get("From") or ""
    body = params.get("Body") or ""
    if not gateway.is_e164(phone):
        # Short codes and alphanumeric senders have no client to reach.
        return ""
    keyword = keyword_of(body)
    with tenant_context(gym):
        if keyword in STOP_KEYWORDS:
            # Twilio confirms the opt-out itself (its own STOP handling).
            sms_number_suppress(phone=phone, reason="stop", detail=keyword)
            return ""
        if keyword in START_KEYWORDS:
            sms_number_unsuppress(phone=phone)
            return ""
        if keyword in HELP_KEYWORDS:
            return help_text(gym=gym)
        sid = params.get("MessageSid") or params.get("SmsSid") or ""
        if sid and not cache.add(f"sms:inbound:{sid}", 1, INBOUND_SEEN_SECONDS):
            return ""
        client = clients_with_phone(phone=phone).first()
        if client is None:
            inbound_to_lead(phone=phone, body=body, message_sid=sid)
            return ""
        inbound_to_conversation(client=client, body=body)
    return ""


def help_text(*, gym: Gym) -> str:
    """The answer to HELP: who is texting and how to reach them, in the gym's language."""
    contact = " · ".join(part for part in (gym.contact_phone, gym.contact_email) if part)
    with translation.override(gym.language or None):
        if contact:
            return _("%(gym)s: contact us at %(contact)s. Reply STOP to stop texts.") % {
                "gym": gym.name,
                "contact": contact,
            }
        return _("%(gym)s. Reply STOP to stop texts.") % {"gym": gym.name}


def inbound_to_conversation(*, client: Any, body: str) -> bool:
    """Put a client's text in their conversation with the gym (apps.messaging). A text
    messaging cannot take (a picture message without words, a NUL character) is dropped and
    logged rather than failing Twilio's request: Twilio would only show an error."""
    from apps.messaging.services import conversation_with_gym, post_message

    try:
        with transaction.atomic():
            conversation = conversation_with_gym(client=client)
            post_message(conversation=conversation, sender_client=client, body=body, via="sms")
    except ValidationError as error:
        logger.info("An inbound text was not kept: %s", "; ".join(error.messages))
        return False
    return True


# The roles that handle leads (apps.crm.services.lead_update_status): they hear of a text
# from someone who is not a client.
LEAD_HANDLER_ROLES = ("owner", "manager", "front_desk")


@transaction.atomic
def inbound_to_lead(*, phone: str, body: str, message_sid: str = "") -> Any:
    """A text from a number no client has: added to the lead with that number (the newest
    one still open, else the newest), or the first note of a new lead (source "SMS", which
    starts the gym's "lead created" rules); the staff who handle leads are notified. The lead,
    or None when the text could not be kept."""
    from apps.accounts.models import User
    from apps.crm.models import Lead, LeadStatus
    from apps.crm.services import lead_capture
    from apps.notifications.services import notify
    from apps.tenants.selectors import gym_zone

    text = body.replace("\x00", "").strip()
    lead = (
        Lead.objects.select_for_update()
        .filter(phone=phone)
        .order_by(
            # Open leads first, then the newest.
            models.Case(
                models.When(status=LeadStatus.CONVERTED, then=1),
                models.When(status=LeadStatus.LOST, then=1),
                default=0,
            ),
            "-created_at",
            "-pk",
        )
        .first()
    )
    created = lead is None
    if lead is None:
        try:
            with transaction.atomic():
                # The number is the name until someone asks.
                lead = lead_capture(first_name=phone, phone=phone, message=text, source="SMS")
        except ValidationError as error:
            logger.info("An inbound text made no lead: %s", "; ".join(error.messages))
            return None
    elif text:
        stamp = timezone.localtime(timezone=gym_zone()).strftime("%Y-%m-%d %H:%M")
        line = _("SMS %(when)s: %(text)s") % {"when": stamp, "text": text}
        lead.message = f"{lead.message}\n\n{line}" if lead.message else line
        lead.save(update_fields=["message"])
        # The text itself stays on the lead, out of the audit log.
        audit_record(action="lead.texted", obj=lead)
    event = message_sid or f"{phone}:{timezone.now().isoformat()}"
    for user in User.objects.filter(role__in=LEAD_HANDLER_ROLES, is_active=True).order_by("pk"):
        notify(
            kind="lead_texted",
            recipient=user,
            context={"name": str(lead), "phone": phone, "text": text[:300], "new": created},
            event_key=f"lead_texted:{event}",
            # Inbound texts arrive on the public host: the gym's own URLs, named explicitly.
            url=reverse("crm:lead_list", urlconf="fitnesscrm.urls_tenant"),
        )
    return lead
