"""The one way any app sends an SMS: through the current gym's Messaging Service on the
platform's Twilio account (the official SDK, pointed at TWILIO_BASE_URL), with a delivery
report coming back to the public host. Also the rules every sender shares: E.164 numbers, how
many segments a text takes and what it costs, and Twilio's request signatures.

Callers record the send themselves (apps.notifications' Delivery rows carry the SID this
returns); the gateway refuses, before any request, what must not be sent: a number that is not
E.164, a number on the gym's suppression list, a gym without a Messaging Service."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client as TwilioClient

from apps.crm import phones

logger = logging.getLogger(__name__)

# Twilio's error codes the gateway answers itself.
ERROR_INVALID_TO = 21211
ERROR_OPTED_OUT = 21610
ERROR_NOT_MOBILE = 21614
# Twilio refuses bodies longer than this (it splits up to 10 segments of 160 GSM-7 chars).
MAX_BODY_LENGTH = 1600

_E164 = re.compile(r"^\+[1-9][0-9]{5,14}$")

# GSM 03.38: the basic character set (one septet each) and its extension table (two septets:
# the escape and the character). Anything else makes the whole text UCS-2.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
# Characters per segment: one SMS alone, or each part of a concatenated one (the user data
# header that joins the parts takes 6 bytes of the 140).
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class SmsError(Exception):
    """A text that was not sent; `reason` (and str()) says why to a person. `code` is
    Twilio's error code when Twilio refused; `retry_after` (seconds) when a later try may
    work."""

    def __init__(
        self,
        message: Any,
        *args: Any,
        code: int | str | None = None,
        retry_after: float | None = None,
        retryable: bool = False,
    ) -> None:
        # *args: ValidationError (SmsInvalidNumberError's other base) passes its own on.
        super().__init__(message, *args)
        self.reason = str(message)
        self.code = code
        self.retry_after = retry_after
        self.retryable = retryable or retry_after is not None


class SmsNotConfiguredError(SmsError):
    """The platform has no Twilio account, or the gym no Messaging Service."""


class SmsSuppressedError(SmsError):
    """The number replied STOP (our list or Twilio's 21610): nothing may be sent to it."""


class SmsInvalidNumberError(ValidationError, SmsError):
    """Not an E.164 number (ours) or not one Twilio can reach (21211): a field error too, so
    forms and the API show it on the field."""

    def __init__(self, message: str, *, field: str = "to", code: int | str | None = None):
        ValidationError.__init__(self, {field: [message]}, code="invalid_phone")
        self.reason = message
        self.code = code
        self.retry_after = None
        self.retryable = False

    def __str__(self) -> str:
        return self.reason


# --- Numbers ------------------------------------------------------------------------------------


def is_e164(phone: str | None) -> bool:
    """`phone` is written in E.164 ("+447700900123") and is a number that can be dialled."""
    if not phone or not _E164.match(phone):
        return False
    try:
        return phones.normalise_phone(phone) == phone
    except ValidationError:
        return False


def normalise_phone(raw: str | None, *, field: str = "phone") -> str:
    """`raw` in E.164 ("" when empty); a ValidationError naming `field` when it is no number.
    The CRM's one rule (numbers without a country code are read in PHONE_DEFAULT_REGION)."""
    return phones.normalise_phone(raw, field=field)


def require_e164(phone: str | None, *, field: str = "to") -> str:
    """`phone` when it is E.164, else SmsInvalidNumberError naming `field`."""
    if not is_e164(phone):
        raise SmsInvalidNumberError(
            _("Enter the number in international format, e.g. +44 7700 900123."), field=field
        )
    return str(phone)


# --- Segments and cost -----------------------------------------------------------------------


def is_gsm7(body: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body)


def segments(body: str) -> int:
    """How many SMS segments `body` is sent as: GSM-7 (extension characters count twice) when
    every character has a septet, else UCS-2 (counted in UTF-16 units, as phones do: an emoji
    is two). 0 for an empty text."""
    if not body:
        return 0
    if is_gsm7(body):
        length = sum(2 if char in GSM7_EXTENSION else 1 for char in body)
        single, part = GSM7_SINGLE, GSM7_PART
    else:
        length = len(body.encode("utf-16-le")) // 2
        single, part = UCS2_SINGLE, UCS2_PART
    if length <= single:
        return 1
    return -(-length // part)


@dataclass(frozen=True)
class SmsCost:
    segments: int
    recipients: int
    amount: Decimal
    currency: str

    @property
    def messages(self) -> int:
        return self.segments * self.recipients


def segment_price() -> Decimal:
    return Decimal(str(settings.SMS_SEGMENT_PRICE))


def cost_estimate(body: str, *, recipients: int = 1) -> SmsCost:
    """What sending `body` to `recipients` people costs at SMS_SEGMENT_PRICE per segment,
    rounded to the cent. An estimate: placeholders filled in per person change the length."""
    count = segments(body)
    amount = (segment_price() * count * max(recipients, 0)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return SmsCost(
        segments=count,
        recipients=max(recipients, 0),
        amount=amount,
        currency=settings.SMS_PRICE_CURRENCY,
    )


# --- Twilio -----------------------------------------------------------------------------------


class _BaseUrlHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sending what it addresses to https://*.twilio.com to
    TWILIO_BASE_URL instead (a fake on loopback in tests), and keeping the last response's
    headers: the SDK's exception carries no Retry-After."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(base_url)
        self.base_scheme, self.base_netloc = parts.scheme, parts.netloc
        self.last_headers: dict[str, str] = {}

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        parts = urlsplit(url)
        if parts.netloc.endswith("twilio.com") and self.base_netloc != "api.twilio.com":
            url = parts._replace(scheme=self.base_scheme, netloc=self.base_netloc).geturl()
        response = super().request(method, url, *args, **kwargs)
        self.last_headers = dict(response.headers or {})
        return response


def is_platform_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


def twilio_client() -> tuple[TwilioClient, _BaseUrlHttpClient]:
    """A client of the platform's account, and its HTTP client (for the last headers)."""
    if not is_platform_configured():
        raise SmsNotConfiguredError(_("SMS is not set up on this installation."))
    http = _BaseUrlHttpClient(settings.TWILIO_BASE_URL, timeout=settings.TWILIO_TIMEOUT_SECONDS)
    # environment={} so TWILIO_EDGE / TWILIO_REGION in the process environment cannot send
    # calls elsewhere than the settings say.
    client = TwilioClient(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=http,
        environment={},
    )
    return client, http


def public_url(path: str) -> str:
    """An absolute URL on the public host, as the outside world (Twilio) reaches it."""
    port = settings.PUBLIC_PORT
    netloc = f"{settings.BASE_DOMAIN}:{port}" if port else settings.BASE_DOMAIN
    return f"{settings.URL_SCHEME}://{netloc}{path}"


def status_callback_url(*, schema_name: str) -> str:
    """Where Twilio reports a message's progress. The gym rides in the query string, which
    Twilio's signature covers, so a report finds its gym even after the gym changed service."""
    path = reverse("sms_public:status", urlconf="fitnesscrm.urls_public")
    return public_url(f"{path}?{urlencode({'gym': schema_name})}")


def inbound_url() -> str:
    """What a gym enters in its Messaging Service as the URL for incoming messages."""
    return public_url(reverse("sms_public:inbound", urlconf="fitnesscrm.urls_public"))


def _retry_after(headers: dict[str, str]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except ValueError:
                break
    return 1.0


def send_sms(*, to: str, body: str) -> str:
    """Send `body` to `to` from the current gym's Messaging Service; Twilio's Message SID.

    Raises SmsInvalidNumberError (a ValidationError on "to") for a number that is not E.164
    or that Twilio says is invalid, ValidationError on "body" for an empty or too long text,
    SmsSuppressedError for a number that opted out (ours, or Twilio's 21610, which is then
    added to ours), SmsNotConfiguredError, and SmsError for anything else Twilio refused
    (`retryable` for 429 and server errors)."""
    from apps.notifications.selectors import is_suppressed
    from apps.sms.selectors import messaging_service_for_gym
    from apps.tenants.selectors import current_gym

    to = require_e164(to, field="to")
    if not body or not body.strip():
        raise ValidationError({"body": [_("Write the text to send.")]})
    if len(body) > MAX_BODY_LENGTH:
        raise ValidationError(
            {"body": [_("A text can have at most %(max)d characters.") % {"max": MAX_BODY_LENGTH}]}
        )
    if is_suppressed("sms", to):
        raise SmsSuppressedError(
            _("This number has opted out of texts (it replied STOP)."), code="suppressed"
        )
    gym = current_gym()
    service = messaging_service_for_gym(gym=gym)
    if service is None:
        raise SmsNotConfiguredError(_("Texts are not set up for this gym yet."))
    client, http = twilio_client()
    params: dict[str, Any] = {
        "to": to,
        "body": body,
        "messaging_service_sid": service.service_sid,
        "status_callback": status_callback_url(schema_name=connection.schema_name),
    }
    if service.sender_number:
        params["from_"] = service.sender_number
    try:
        message = client.messages.create(**params)
    except TwilioRestException as error:
        raise _sms_error(error, to=to, headers=http.last_headers) from error
    except (TwilioException, OSError) as error:
        # Connection refused, timeouts (requests' errors are OSErrors).
        logger.warning("Twilio could not be reached: %s", error)
        raise SmsError(_("Twilio could not be reached."), retryable=True) from error
    return str(message.sid)


def _sms_error(error: TwilioRestException, *, to: str, headers: dict[str, str]) -> SmsError:
    from apps.sms.services import sms_number_suppress

    code = error.code
    if code == ERROR_OPTED_OUT:
        # Twilio's own list says STOP: ours says so too from now on, so later sends stop here.
        sms_number_suppress(phone=to, detail="Twilio 21610")
        return SmsSuppressedError(
            _("This number has opted out of texts (it replied STOP)."), code=code
        )
    if code in (ERROR_INVALID_TO, ERROR_NOT_MOBILE):
        return SmsInvalidNumberError(
            _("Twilio cannot send a text to this number."), field="to", code=code
        )
    if error.status == 429:
        return SmsError(
            _("Twilio is busy; the text will be sent again shortly."),
            code=code or 429,
            retry_after=_retry_after(headers),
        )
    if error.status >= 500:
        return SmsError(
            _("Twilio had a problem; the text will be sent again."), code=code, retryable=True
        )
    return SmsError(
        _("Twilio refused the text: %(reason)s") % {"reason": error.msg or error.status},
        code=code,
    )


# --- Callbacks' signatures -----------------------------------------------------------------------


def signature_valid(request: HttpRequest) -> bool:
    """The request carries Twilio's X-Twilio-Signature for the URL Twilio requested and its
    form parameters, signed with the platform's auth token, and names the platform's account.
    The URL is the public one we gave Twilio; behind a proxy Django may see another scheme or
    port, so the URL as Django sees it is tried too (either needs the auth token to match)."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    if request.POST.get("AccountSid", "") != settings.TWILIO_ACCOUNT_SID:
        return False
    validator = RequestValidator(token)
    candidates = {public_url(request.get_full_path()), request.build_absolute_uri()}
    return any(validator.validate(url, request.POST, signature) for url in candidates)
