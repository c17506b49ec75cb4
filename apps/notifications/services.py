"""The one notification service every app uses.

    from apps.notifications.services import notify

    notify(
        kind="booking_confirmed",          # a key of apps/notifications/kinds.py
        recipient=booking.client,          # a User, a crm Client (with or without a login), a Lead
        context={"what": "Yoga", "when": "Mon 9 Dec, 18:00"},   # the kind's template variables
        event_key=f"booking_confirmed:{booking.pk}",            # what happened, once
        url=reverse("portal:bookings"),    # a path on the gym's host; made absolute here
    )

Call it inside the service's transaction: it records one `Delivery` per channel and sends after
commit (in-app at once, the rest on Celery), so a rolled-back write tells nobody anything.

- Channels come from the kind's defaults and the recipient's preferences (a user's per kind
  and channel; a client without a login: `notify_by_email` / `notify_by_sms`); `channels=`
  restricts them. SMS goes only to people who asked for texts. Mandatory kinds ignore
  preferences.
- Idempotent: the recipient is added to `event_key`, and (channel, event_key) is unique, so a
  second call, a retried task or a re-run reminder sweep sends nothing more.
- Quiet hours (the user's, in their time zone) hold non-urgent sends back until they end;
  nothing is dropped. Suppressed addresses (bounces, complaints, STOP) are logged, not sent.
- Text is rendered once, in the recipient's language, with the gym's branding:
  `templates/notifications/<kind>/` (see kinds.py), or `content=Content(subject, text)` for text
  a person wrote with placeholders (apps/notifications/templating.py), which is validated
  first: an unknown placeholder raises ValidationError and nothing is recorded.

`update_delivery(provider=, provider_id=, status=)` records what a provider reports later
(Twilio's status callbacks, anymail's tracking webhooks).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string, select_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.notifications import selectors
from apps.notifications.kinds import EMAIL, IN_APP, PUSH, SMS, Kind, get_kind
from apps.notifications.models import (
    Category,
    Delivery,
    DeliveryStatus,
    Notification,
    Preference,
    PushSubscription,
    Suppression,
    SuppressionReason,
)
from apps.notifications.templating import render_template, validate_template

logger = logging.getLogger(__name__)

# A delivery still queued this long after it was due lost its task (a broker restart): the
# periodic sweep sends it again.
LOST_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Content:
    """Text a person wrote (an automation's message) instead of the kind's templates; may use
    the placeholders of apps.notifications.templating."""

    subject: str
    text: str


@dataclass(frozen=True)
class Person:
    """Who a notification is for, whichever way they were given."""

    user: User | None
    client: Any  # apps.crm.models.Client | None
    email: str
    phone: str
    first_name: str
    last_name: str
    language: str
    time_zone: str
    lead: Any = None  # apps.crm.models.Lead | None

    @property
    def tag(self) -> str:
        if self.user is not None:
            return f"u{self.user.pk}"
        if self.client is not None:
            return f"c{self.client.pk}"
        if self.lead is not None:
            return f"l{self.lead.pk}"
        return f"e{self.email}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class RetryableSendError(Exception):
    """A send failed in a way that may pass (a timeout, a 5xx): the task tries again later."""


class PermanentSendError(Exception):
    """A send that will never work as it is (not configured, an invalid address)."""


def person_for(recipient: Any) -> Person:
    from apps.crm.models import Client, Lead
    from apps.tenants.branding import email_language

    if isinstance(recipient, User):
        client = getattr(recipient, "client_profile", None) if recipient.pk else None
        return Person(
            user=recipient,
            client=client,
            email=recipient.email,
            phone=(client.phone if client is not None and client.phone else recipient.phone),
            first_name=recipient.first_name,
            last_name=recipient.last_name,
            language=email_language(recipient),
            time_zone=recipient.time_zone or "",
        )
    if isinstance(recipient, Client):
        if recipient.user_id:
            return person_for(recipient.user)
        return Person(
            user=None,
            client=recipient,
            email=recipient.email,
            phone=recipient.phone,
            first_name=recipient.first_name,
            last_name=recipient.last_name,
            language=email_language(None),
            time_zone="",
        )
    if isinstance(recipient, Lead):
        # A prospect: reached only by the email and SMS a caller asks for (an automation's
        # answer to their enquiry), at the address they left.
        return Person(
            user=None,
            client=None,
            email=recipient.email,
            phone=recipient.phone,
            first_name=recipient.first_name,
            last_name=recipient.last_name,
            language=email_language(None),
            time_zone="",
            lead=recipient,
        )
    if isinstance(recipient, str):
        # Someone without an account yet (an invitee): only mandatory email reaches them.
        return Person(
            user=None,
            client=None,
            email=recipient.strip(),
            phone="",
            first_name="",
            last_name="",
            language=email_language(None),
            time_zone="",
        )
    raise TypeError(
        "notify() sends to a User, a Client, a Lead or an email address, not "
        f"{type(recipient).__name__}"
    )


# --- Channels -----------------------------------------------------------------------------


def channel_enabled(kind: Kind, channel: str, preference: Preference | None) -> bool:
    """A user's choice for (kind, channel): their own where they set one, else the default."""
    if kind.mandatory:
        return channel in kind.default_channels
    choice = (preference.channels if preference else {}).get(f"{kind.key}:{channel}")
    if choice is not None:
        return bool(choice)
    if channel == SMS:
        # Texts cost the gym money and reach a phone: only for those who asked.
        return False
    return channel in kind.default_channels


def channels_for(kind: Kind, person: Person, restrict: Iterable[str] | None) -> list[str]:
    wanted = list(kind.default_channels if kind.mandatory else (IN_APP, EMAIL, SMS, PUSH))
    if restrict is not None:
        allowed = set(restrict)
        wanted = [channel for channel in wanted if channel in allowed]
    if person.lead is not None:
        # A lead chose nothing: the caller's channels, where the lead left an address.
        return [
            channel
            for channel in (EMAIL, SMS)
            if channel in wanted
            and channel in kind.default_channels
            and restrict is not None
            and (person.email if channel == EMAIL else person.phone)
        ]
    if person.user is None and person.client is None:
        return [EMAIL] if kind.mandatory and EMAIL in wanted else []
    if person.user is None:
        client = person.client
        chosen = []
        if EMAIL in wanted and EMAIL in kind.default_channels and client.notify_by_email:
            chosen.append(EMAIL)
        if SMS in wanted and SMS in kind.default_channels and client.notify_by_sms:
            chosen.append(SMS)
        return chosen
    preference = selectors.preference_for(person.user)
    chosen = [channel for channel in wanted if channel_enabled(kind, channel, preference)]
    if (
        SMS not in chosen
        and SMS in wanted
        and SMS in kind.default_channels
        and person.client is not None
        and person.client.notify_by_sms
        and not kind.mandatory
        and (preference is None or f"{kind.key}:{SMS}" not in preference.channels)
    ):
        # A client who said yes to texts at the desk gets the kinds that text by default.
        chosen.append(SMS)
    if PUSH in chosen and not PushSubscription.objects.filter(user=person.user).exists():
        chosen.remove(PUSH)
    return chosen


# --- Quiet hours --------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    from apps.tenants.selectors import gym_zone

    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return gym_zone()


def quiet_until(
    now: datetime, start: time | None, end: time | None, zone: ZoneInfo
) -> datetime | None:
    """When quiet hours from `start` to `end` (wall clock in `zone`; an end before the start
    spans midnight) are over, if `now` falls inside them; else None. The end is a wall-clock
    time, so across a daylight-saving change it is still 07:00 on the clock, not 8 or 9 hours
    after the start."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zone)
    moment = local.time()
    if start < end:
        inside = start <= moment < end
        end_day = local.date()
    else:
        inside = moment >= start or moment < end
        end_day = local.date() + timedelta(days=1) if moment >= start else local.date()
    if not inside:
        return None
    # fold=0 and zoneinfo's rules put a wall time that does not exist (a spring-forward gap)
    # after the gap; converting to UTC makes it unambiguous.
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _held_until(kind: Kind, person: Person, channel: str, now: datetime) -> datetime | None:
    if kind.urgent or channel == IN_APP or person.user is None:
        return None
    preference = selectors.preference_for(person.user)
    if preference is None:
        return None
    return quiet_until(now, preference.quiet_start, preference.quiet_end, _zone(person.time_zone))


# --- Rendering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str  # the bare message: in-app, push, SMS
    sms: str
    email_text: str = ""  # whole email bodies in the branded layout
    email_html: str = ""


def _absolute(url: str) -> str:
    from apps.tenants.selectors import current_gym, gym_url

    if not url or "://" in url:
        return url
    return gym_url(gym=current_gym(), path=url)


def _preferences_url(person: Person) -> str:
    if person.user is None:
        return ""
    name = (
        "portal:notification_preferences"
        if person.client is not None
        else ("notifications:preferences")
    )
    try:
        return _absolute(reverse(name))
    except Exception:  # a link in a footer is never worth failing a send for
        return ""


def _render_plain(name: str, context: dict[str, Any]) -> str:
    """A plain-text template without HTML escaping: "Mum & Baby" and "O'Brien" stay as they
    are in subjects, texts and SMS (the HTML part escapes the text once, when it is built)."""
    from django.template import Context
    from django.template.loader import get_template

    return get_template(name).template.render(Context(context, autoescape=False))


def render(
    kind: Kind, person: Person, context: dict[str, Any], url: str, content: Content | None
) -> Rendered:
    """The kind's templates (or `content`) in the current language with the gym's branding."""
    from apps.notifications import email as email_module
    from apps.tenants.selectors import current_gym

    gym = current_gym()
    full = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "full_name": person.full_name,
        "recipient_name": person.full_name,
        "gym_name": gym.name,
        "portal_url": _absolute("/portal/"),
        **context,
        "url": _absolute(url),
    }
    html_document = ""
    if content is not None:
        subject = render_template(content.subject, full)
        text = render_template(content.text, full)
        sms = text
    else:
        base = f"notifications/{kind.key}"
        subject = _render_plain(f"{base}/subject.txt", full)
        text = _render_plain(f"{base}/body.txt", full).strip()
        try:
            sms = _render_plain(f"{base}/sms.txt", full).strip()
        except TemplateDoesNotExist:
            sms = text
        try:
            template = select_template([f"{base}/body.html"])
        except TemplateDoesNotExist:
            template = None
        layout = email_module.layout_context(gym)
        if template is not None:
            html_document = template.render(
                {**layout, **full, "action_url": full["url"], "footer": ""}
            )
    subject = " ".join(subject.split())
    footer = ""
    preferences = _preferences_url(person)
    if preferences and not kind.mandatory:
        footer = _("Choose which notifications you get: %(url)s") % {"url": preferences}
    layout = email_module.layout_context(gym)
    email_text = render_to_string(
        "email/base.txt",
        {
            **layout,
            "content": text + (f"\n\n{full['url']}" if full["url"] else ""),
            "footer": footer,
        },
    )
    email_html = html_document or render_to_string(
        "email/base.html",
        {
            **layout,
            # linebreaks escaped the text: the paragraphs it adds are the only markup.
            "content_html": mark_safe(linebreaks(text, autoescape=True)),  # noqa: S308
            "action_url": full["url"],
            "footer": footer,
        },
    )
    return Rendered(
        subject=subject,
        text=_without_salutation(text),
        sms=sms,
        email_text=email_text,
        email_html=email_html,
    )


def _without_salutation(text: str) -> str:
    """The text without an opening "Hello Ana," paragraph: a letter's greeting reads oddly in
    the notification centre and on a lock screen. Any language: a first paragraph of one short
    line ending in a comma."""
    first, separator, rest = text.partition("\n\n")
    greeting = "\n" not in first and first.rstrip().endswith(",") and len(first) <= 60
    if separator and rest.strip() and greeting:
        return rest.strip()
    return text


# --- notify -------------------------------------------------------------------------------


def _address(channel: str, person: Person) -> str:
    if channel == EMAIL:
        return selectors.normalise_address(EMAIL, person.email)
    if channel == SMS:
        return (person.phone or "").strip()
    return ""


def _group_name(user_id: int) -> str:
    from django.db import connection

    from apps.notifications.consumers import group_name

    return group_name(connection.schema_name, user_id)


def _broadcast_unread_on_commit(user_id: int) -> None:
    """After the commit, tell the user's open pages their unread count (the bell). The schema
    is bound now: the callbacks may run once the caller (a task, a fan-out) switched away."""
    from django.db import connection

    transaction.on_commit(partial(_broadcast_unread, user_id, connection.schema_name))


def _broadcast_unread(user_id: int, schema_name: str | None = None) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.db import connection
    from django_tenants.utils import schema_context

    layer = get_channel_layer()
    if layer is None:
        return
    schema_name = schema_name or connection.schema_name
    with schema_context(schema_name):
        count = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
        group = _group_name(user_id)
    try:
        async_to_sync(layer.group_send)(group, {"type": "unread.changed", "unread": count})
    except Exception:  # the bell is a nicety; the notification is saved
        logger.warning("Could not publish the unread count", exc_info=True)


def _is_e164(phone: str) -> bool:
    try:
        from apps.sms.gateway import is_e164
    except ImportError:
        import re

        return bool(re.fullmatch(r"\+[1-9][0-9]{5,14}", phone or ""))
    return is_e164(phone)


@transaction.atomic
def notify(
    *,
    kind: str,
    recipient: Any,
    context: dict[str, Any],
    event_key: str,
    url: str = "",
    channels: Iterable[str] | None = None,
    content: Content | None = None,
    actor: User | None = None,
    category: str = Category.TRANSACTIONAL,
    group_key: str = "",
) -> list[Delivery]:
    """Record and schedule `kind` for `recipient` (see the module docstring); the deliveries
    this call created (none when every channel was done before)."""
    spec = get_kind(kind)
    if not event_key:
        raise ValueError("notify() needs an event_key naming what happened")
    if content is not None:
        validate_template(content.subject, field="subject")
        validate_template(content.text, field="text")
    person = person_for(recipient)
    chosen = channels_for(spec, person, channels)
    if not chosen:
        return []
    full_key = f"{event_key}:{person.tag}"[:255]
    existing = set(
        Delivery.objects.filter(event_key=full_key, channel__in=chosen).values_list(
            "channel", flat=True
        )
    )
    chosen = [channel for channel in chosen if channel not in existing]
    if not chosen:
        return []
    with translation.override(person.language):
        rendered = render(spec, person, context, url, content)
    now = timezone.now()
    created: list[Delivery] = []
    for channel in chosen:
        delivery = _delivery_create(
            spec=spec,
            person=person,
            channel=channel,
            full_key=full_key,
            rendered=rendered,
            url=_absolute(url),
            now=now,
            category=category,
            group_key=group_key,
            secrets=_secrets(spec, context),
        )
        if delivery is not None:
            created.append(delivery)
    return created


def _delivery_create(
    *,
    spec: Kind,
    person: Person,
    channel: str,
    full_key: str,
    rendered: Rendered,
    url: str,
    now: datetime,
    category: str,
    group_key: str,
    secrets: tuple[str, ...] = (),
) -> Delivery | None:
    address = _address(channel, person)
    fields: dict[str, Any] = {
        "recipient_user": person.user,
        "recipient_client": person.client,
        "address": address,
        "kind": spec.key,
        "category": category,
        "subject": rendered.subject[:255],
        "url": url[:500],
        "group_key": group_key,
    }
    if channel == EMAIL and spec.secret:
        fields.update(
            body=_redacted(rendered.email_text, secrets),
            html=_redacted(rendered.email_html, secrets),
            secret_content=json.dumps({"text": rendered.email_text, "html": rendered.email_html}),
        )
    elif channel == EMAIL:
        fields.update(body=rendered.email_text, html=rendered.email_html)
    elif channel == SMS:
        fields.update(body=rendered.sms)
    else:
        fields.update(body=rendered.text)
    if spec.secret and channel != EMAIL:
        # Only email carries the real link; elsewhere the text goes without it.
        fields["body"] = _redacted(fields["body"], secrets)
    status, error = DeliveryStatus.QUEUED, ""
    if channel in (EMAIL, SMS) and not address:
        status = DeliveryStatus.SKIPPED
        error = _("No email address.") if channel == EMAIL else _("No phone number.")
    elif channel == SMS and not _is_e164(address):
        status = DeliveryStatus.FAILED
        error = _("The phone number %(phone)s is not in international format (E.164).") % {
            "phone": address
        }
    elif selectors.is_suppressed(channel, address):
        status = DeliveryStatus.SUPPRESSED
        error = _("This address is on the suppression list.")
    held = _held_until(spec, person, channel, now) if status == DeliveryStatus.QUEUED else None
    if channel == IN_APP:
        status = DeliveryStatus.SENT
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                channel=channel,
                event_key=full_key,
                status=status,
                error=error,
                send_after=held,
                sent_at=now if channel == IN_APP else None,
                **fields,
            )
    except IntegrityError:
        # Another call recorded this (channel, event) between our check and the insert.
        return None
    if channel == IN_APP:
        Notification.objects.create(
            recipient=person.user,
            kind=spec.key,
            title=rendered.subject[:200],
            body=rendered.text,
            url=url[:500],
        )
        _broadcast_unread_on_commit(person.user.pk)
    elif status == DeliveryStatus.QUEUED and held is None:
        from django.db import connection

        # The schema is bound now: the commit may run its callbacks after the caller (a task
        # in another gym's schema, a fan-out) has switched the connection elsewhere.
        transaction.on_commit(partial(_dispatch, delivery.pk, connection.schema_name))
    return delivery


def _secrets(spec: Kind, context: dict[str, Any]) -> tuple[str, ...]:
    link = context.get("link") if spec.secret else None
    return (str(link),) if link else ()


def _redacted(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each secret (and its HTML-escaped form) replaced by a placeholder."""
    for secret in secrets:
        for form in {secret, escape(secret)}:
            text = text.replace(form, str(_("[link removed]")))
    return text


def _dispatch(delivery_id: int, schema_name: str) -> None:
    """Queue the send in the gym's schema. With Celery eager (development without Redis) the
    send runs here, and a failure that would be retried must not break the request that
    caused it: the delivery stays queued with its error, for the periodic sweep."""
    from celery.exceptions import Retry

    from apps.notifications.tasks import deliver

    try:
        deliver.apply_async(args=[delivery_id], headers={"_schema_name": schema_name})
    except (Retry, RetryableSendError):
        logger.warning("Delivery %s will be tried again later", delivery_id)


# --- Sending ------------------------------------------------------------------------------


def _send_email(delivery: Delivery) -> tuple[str, str]:
    from smtplib import SMTPRecipientsRefused, SMTPSenderRefused

    from apps.notifications.email import build_email, provider_for

    headers = {}
    if delivery.category == Category.MARKETING:
        headers["Precedence"] = "bulk"
    text, html = delivery.body, delivery.html
    if delivery.secret_content:
        secret = json.loads(delivery.secret_content)
        text, html = secret["text"], secret["html"]
    message = build_email(
        to=delivery.address,
        subject=delivery.subject,
        text=text,
        html=html or None,
        category=delivery.category,
        headers=headers,
        metadata={"delivery": str(delivery.pk)},
        wrapped=True,
    )
    try:
        from anymail.exceptions import AnymailRecipientsRefused
    except ImportError:  # pragma: no cover - anymail is a dependency
        AnymailRecipientsRefused = ()  # type: ignore[assignment,misc]  # noqa: N806
    try:
        message.send()
    except (SMTPRecipientsRefused, AnymailRecipientsRefused) as error:  # type: ignore[misc]
        raise PermanentSendError(
            _("The mail server refused the address: %(error)s") % {"error": error}
        ) from error
    except SMTPSenderRefused as error:
        raise PermanentSendError(str(error)) from error
    status = getattr(message, "anymail_status", None)
    provider_id = ""
    if status is not None and getattr(status, "message_id", None):
        provider_id = str(status.message_id)
    return provider_for(delivery.category), provider_id


def _send_sms(delivery: Delivery) -> tuple[str, str]:
    try:
        from apps.sms.gateway import SmsError, send_sms
    except ImportError:
        raise PermanentSendError(_("SMS not configured.")) from None
    try:
        sid = send_sms(to=delivery.address, body=delivery.body)
    except ValidationError as error:
        raise PermanentSendError("; ".join(error.messages)) from error
    except SmsError as error:
        if getattr(error, "retryable", False):
            raise RetryableSendError(str(error)) from error
        raise PermanentSendError(str(error)) from error
    return "twilio", sid


def _send_push(delivery: Delivery) -> tuple[str, str]:
    from apps.notifications import push

    subscriptions = list(PushSubscription.objects.filter(user_id=delivery.recipient_user_id))
    if not subscriptions:
        raise PermanentSendError(_("No device is subscribed to push notifications."))
    try:
        sent = push.send_to_subscriptions(
            subscriptions,
            {
                "title": delivery.subject,
                "body": delivery.body,
                "url": delivery.url,
                "tag": delivery.kind,
            },
        )
    except push.PushRejectedError as error:
        raise PermanentSendError(str(error)) from error
    return "webpush", f"{sent}/{len(subscriptions)}"


_SENDERS = {EMAIL: _send_email, SMS: _send_sms, PUSH: _send_push}


def delivery_send(*, delivery_id: int, final_attempt: bool = False) -> str:
    """Send one queued delivery; its new status. Claims the row first (queued -> sending), so
    two runs of the task for one delivery send once. Raises RetryableSendError when a transient
    failure should be tried again (the status goes back to queued with the error)."""
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED)
        .filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
        .update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1)
    )
    if not claimed:
        return (
            Delivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first() or ""
        )
    delivery = Delivery.objects.get(pk=delivery_id)
    if selectors.is_suppressed(delivery.channel, delivery.address):
        return _finish(
            delivery, DeliveryStatus.SUPPRESSED, _("This address is on the suppression list.")
        )
    sender = _SENDERS.get(delivery.channel)
    try:
        if sender is None:
            raise PermanentSendError(f"No sender for channel {delivery.channel}")
        provider, provider_id = sender(delivery)
    except PermanentSendError as error:
        return _finish(delivery, DeliveryStatus.FAILED, str(error))
    except Exception as error:  # every other failure is retried, then recorded
        message = str(error) or type(error).__name__
        if final_attempt:
            return _finish(delivery, DeliveryStatus.FAILED, message)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.QUEUED, error=message[:2000]
        )
        raise RetryableSendError(message) from error
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT,
        provider=provider,
        provider_id=provider_id,
        error="",
        sent_at=timezone.now(),
        secret_content="",
    )
    return DeliveryStatus.SENT


def _finish(delivery: Delivery, status: str, error: str) -> str:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, error=error[:2000], secret_content=""
    )
    return status


def held_deliveries_send() -> int:
    """Queue what quiet hours held back and is now due, and what lost its task; how many."""
    from apps.notifications.tasks import deliver

    now = timezone.now()
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.QUEUED)
        .filter(
            Q(send_after__lte=now) | Q(send_after__isnull=True, created_at__lt=now - LOST_AFTER)
        )
        .exclude(channel=IN_APP)
        .values_list("pk", flat=True)[:1000]
    )
    for pk in due:
        deliver.delay(pk)
    return len(due)


# --- Provider reports ---------------------------------------------------------------------

# A later report never turns a final state back into an earlier one.
_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.FAILED: 4,
    DeliveryStatus.BOUNCED: 4,
    DeliveryStatus.SUPPRESSED: 4,
}


@transaction.atomic
def update_delivery(*, provider: str, provider_id: str, status: str, error: str = "") -> int:
    """Record a provider's report on a send (Twilio status callback, anymail tracking); how
    many deliveries it matched."""
    if status not in DeliveryStatus.values:
        raise ValueError(f"Unknown delivery status {status!r}")
    updated = 0
    for delivery in Delivery.objects.select_for_update().filter(
        provider=provider, provider_id=provider_id
    ):
        if _RANK.get(status, 0) < _RANK.get(delivery.status, 0):
            continue
        delivery.status = status
        delivery.error = error[:2000] if error else delivery.error
        delivery.save(update_fields=["status", "error"])
        updated += 1
    return updated


@transaction.atomic
def suppression_add(
    *, channel: str, address: str, reason: str, detail: str = "", actor: User | None = None
) -> Suppression:
    """Put `address` on the channel's suppression list (idempotent)."""
    if reason not in SuppressionReason.values:
        raise ValidationError({"reason": [_("Choose a reason.")]})
    address = selectors.normalise_address(channel, address)
    if not address:
        raise ValidationError({"address": [_("Enter an address.")]})
    suppression, created = Suppression.objects.get_or_create(
        channel=channel, address=address, defaults={"reason": reason, "detail": detail[:255]}
    )
    if created and actor is not None:
        audit_record(
            action="notifications.suppression_add",
            actor=actor,
            obj=suppression,
            changes={"channel": channel, "reason": reason},
        )
    return suppression


@transaction.atomic
def suppression_remove(*, channel: str, address: str, actor: User | None = None) -> bool:
    deleted, _rows = Suppression.objects.filter(
        channel=channel, address=selectors.normalise_address(channel, address)
    ).delete()
    return bool(deleted)


_EMAIL_EVENTS = {
    "delivered": (DeliveryStatus.DELIVERED, None),
    "bounced": (DeliveryStatus.BOUNCED, SuppressionReason.BOUNCE),
    "rejected": (DeliveryStatus.FAILED, None),
    "failed": (DeliveryStatus.FAILED, None),
    "complained": (None, SuppressionReason.COMPLAINT),
    "unsubscribed": (None, SuppressionReason.UNSUBSCRIBE),
}


@transaction.atomic
def email_event_record(*, esp_name: str, event: Any) -> None:
    """An anymail tracking event in the gym it was routed to: the delivery's status, and the
    suppression list for bounces, complaints and unsubscribes."""
    status, reason = _EMAIL_EVENTS.get(event.event_type, (None, None))
    metadata = event.metadata or {}
    recipient = selectors.normalise_address(EMAIL, event.recipient or "")
    delivery = None
    delivery_id = str(metadata.get("delivery", ""))
    if delivery_id.isdigit():
        delivery = Delivery.objects.filter(pk=int(delivery_id), channel=EMAIL).first()
    if delivery is None and event.message_id:
        delivery = Delivery.objects.filter(provider_id=str(event.message_id), channel=EMAIL).first()
    if delivery is not None and recipient and delivery.address != recipient:
        # The event names another address than we sent to: trust neither.
        logger.warning("Email event for %s does not match delivery %s", recipient, delivery.pk)
        delivery = None
    if (
        delivery is not None
        and status is not None
        and _RANK.get(status, 0) >= _RANK.get(delivery.status, 0)
    ):
        delivery.status = status
        delivery.error = (event.description or event.mta_response or "")[:2000]
        delivery.save(update_fields=["status", "error"])
    if reason is not None and recipient:
        if reason == SuppressionReason.BOUNCE and getattr(event, "reject_reason", None) not in (
            None,
            "bounced",
            "invalid",
        ):
            # A soft or temporary bounce: do not suppress the address for good.
            return
        suppression_add(
            channel=EMAIL,
            address=recipient,
            reason=reason,
            detail=f"{esp_name}: {event.event_type}",
        )


# --- The notification centre --------------------------------------------------------------


@transaction.atomic
def notification_mark_read(*, viewer: User, notification_id: int | None = None) -> int:
    """Mark one of the viewer's notifications (or all of them) read; how many changed."""
    notifications = Notification.objects.filter(recipient=viewer, read_at__isnull=True)
    if notification_id is not None:
        notifications = notifications.filter(pk=notification_id)
        if not Notification.objects.filter(recipient=viewer, pk=notification_id).exists():
            raise PermissionDenied(_("This notification is not yours."))
    changed = notifications.update(read_at=timezone.now())
    if changed:
        _broadcast_unread_on_commit(viewer.pk)
    return changed


# --- Preferences --------------------------------------------------------------------------


@transaction.atomic
def preference_update(
    *,
    user: User,
    choices: dict[str, bool],
    quiet_start: time | None,
    quiet_end: time | None,
) -> Preference:
    """Save a user's channel choices ("kind:channel" -> on/off) and quiet hours."""
    from apps.notifications.kinds import CHANNELS

    if (quiet_start is None) != (quiet_end is None):
        field = "quiet_end" if quiet_end is None else "quiet_start"
        raise ValidationError({field: [_("Give both the start and the end of quiet hours.")]})
    clean: dict[str, bool] = {}
    for key, value in choices.items():
        kind_key, _sep, channel = key.partition(":")
        try:
            kind = get_kind(kind_key)
        except LookupError:
            raise ValidationError({"channels": [_("Unknown notification kind.")]}) from None
        if channel not in CHANNELS or kind.mandatory:
            raise ValidationError({"channels": [_("This choice cannot be changed.")]})
        clean[key] = bool(value)
    preference, _created = Preference.objects.get_or_create(user=user)
    preference.channels = clean
    preference.quiet_start = quiet_start
    preference.quiet_end = quiet_end
    preference.save()
    audit_record(
        action="notifications.preferences_update",
        actor=user,
        obj=preference,
        changes={"channels": {"before": None, "after": len(clean)}},
    )
    return preference


# --- Web push subscriptions ---------------------------------------------------------------


@transaction.atomic
def push_subscribe(
    *, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Remember a browser's push subscription for `user` (a re-subscription moves it)."""
    from apps.notifications.push import validate_subscription

    validate_subscription(endpoint=endpoint, p256dh=p256dh, auth=auth)
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:200]},
    )
    return subscription


@transaction.atomic
def push_unsubscribe(*, user: User, endpoint: str) -> bool:
    deleted, _rows = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return bool(deleted)
