"""The client's address: one rule for throttles, login lockouts (axes), allauth's rate limits
and sessions, and the audit log.

The address is REMOTE_ADDR, the peer of the connection, unless TRUSTED_PROXY_COUNT proxies of
our own stand in front of the app: each of them appends the address it was reached from to
X-Forwarded-For, so the client is the entry our outermost proxy appended, counted from the
right. Entries left of it are whatever the client sent and are never read.

The servers do not rewrite the address themselves (gunicorn.conf.py trusts no forwarding header;
the realtime process runs uvicorn with --no-proxy-headers), and gunicorn drops header names
with an underscore (header_map = "drop"), so `X_Forwarded_For` never reaches us as
HTTP_X_FORWARDED_FOR.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def _address(value: str) -> str | None:
    """`value` as a normalised IP address, with a port some proxies add taken off; None when
    it is not one."""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_address(request: Any) -> str | None:
    """The client's IP address for `request` (an HttpRequest or a DRF Request), or None when it
    has none that is an IP address (a request built in code, a Unix socket)."""
    meta = request.META
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            entry for entry in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()
        ]
        if forwarded:
            # Fewer entries than proxies: the request came in past our outer proxies; the
            # left-most entry is the farthest address one of ours saw.
            return _address(forwarded[-min(proxies, len(forwarded))])
    return _address(meta.get("REMOTE_ADDR", "") or "")
