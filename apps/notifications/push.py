"""Web push to the portal's service worker (RFC 8030 with VAPID, RFC 8292, and aes128gcm
payload encryption, RFC 8291) through pywebpush.

VAPID keys come from the environment: VAPID_PUBLIC_KEY (the browser's applicationServerKey,
base64url), VAPID_PRIVATE_KEY (base64url or PEM) and VAPID_SUBJECT (mailto: or https:).
Subscriptions are accepted only for the push services browsers use (WEBPUSH_ALLOWED_HOSTS):
the server POSTs to whatever endpoint a browser hands over, and must not be pointed at
anything else.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

DEFAULT_ALLOWED_HOSTS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    ".push.services.mozilla.com",
    ".push.apple.com",
    ".notify.windows.com",
)
TIMEOUT_SECONDS = 10
# How long a push service keeps a message for an offline device.
TTL_SECONDS = 24 * 60 * 60


def is_configured() -> bool:
    return bool(
        getattr(settings, "VAPID_PUBLIC_KEY", "") and getattr(settings, "VAPID_PRIVATE_KEY", "")
    )


def _host_allowed(host: str, scheme: str) -> bool:
    allowed = getattr(settings, "WEBPUSH_ALLOWED_HOSTS", None) or DEFAULT_ALLOWED_HOSTS
    insecure = getattr(settings, "WEBPUSH_INSECURE_HOSTS", ())
    if scheme == "http":
        return host in insecure
    if scheme != "https":
        return False
    return any(
        host == pattern or (pattern.startswith(".") and host.endswith(pattern)) or host in insecure
        for pattern in allowed
    )


def _b64_length(value: str) -> int:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError):
        return -1


def validate_subscription(*, endpoint: str, p256dh: str, auth: str) -> None:
    """ValidationError naming the field when a subscription is not one a browser makes."""
    try:
        parts = urlsplit(endpoint or "")
    except ValueError:
        parts = urlsplit("")
    if (
        len(endpoint or "") > 1000
        or not parts.hostname
        or not _host_allowed(parts.hostname, parts.scheme)
    ):
        raise ValidationError({"endpoint": [_("This is not a push service's address.")]})
    # An uncompressed P-256 point is 65 bytes; the auth secret 16.
    if _b64_length(p256dh or "") != 65:
        raise ValidationError({"p256dh": [_("This is not a browser's push key.")]})
    if _b64_length(auth or "") != 16:
        raise ValidationError({"auth": [_("This is not a browser's push secret.")]})


class PushGoneError(Exception):
    """The push service no longer knows the subscription (404, 410)."""


class PushRejectedError(Exception):
    """The push service refused the message for a reason a retry will not change (a 4xx other
    than 429: a VAPID key it does not accept, a payload too large)."""


def send_one(subscription: Any, payload: dict[str, Any]) -> None:
    """Send `payload` (JSON) to one subscription. PushGoneError when the push service says the
    subscription no longer exists (404/410); other failures raise."""
    from pywebpush import WebPushException, webpush

    if not is_configured():
        raise RuntimeError(_("Web push is not configured (VAPID keys)."))
    try:
        webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=json.dumps(payload),
            vapid_private_key=settings.VAPID_PRIVATE_KEY,
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=TTL_SECONDS,
            timeout=TIMEOUT_SECONDS,
        )
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        if status in (404, 410):
            raise PushGoneError(str(status)) from error
        if status is not None and 400 <= status < 500 and status != 429:
            raise PushRejectedError(str(error).splitlines()[0]) from error
        raise


def send_to_subscriptions(subscriptions: Iterable[Any], payload: dict[str, Any]) -> int:
    """Send to each of a person's devices; subscriptions that are gone are forgotten. How many
    were reached; raises the last error when none was and one failed for another reason."""
    reached, last_error = 0, None
    for subscription in subscriptions:
        try:
            send_one(subscription, payload)
            reached += 1
        except PushGoneError:
            subscription.delete()
        except Exception as error:  # one device's failure must not stop the rest
            logger.warning("Web push to subscription %s failed: %s", subscription.pk, error)
            last_error = error
    if reached == 0 and last_error is not None:
        raise last_error
    return reached
