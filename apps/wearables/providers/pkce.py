"""PKCE (RFC 7636) for the OAuth providers that require it (Garmin, Google Health).

The code_verifier never travels in a URL: it waits in the shared cache under a random nonce, and
only the nonce goes into the signed `state` (the same salt and fields as Strava's, so
`services.oauth_state_read` reads it). The callback takes the verifier out once: a replayed
callback finds nothing. Keys live in the public schema, because the consent starts in a gym's
portal and the callback lands on the public host."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from django.core import signing
from django.core.cache import cache
from django_tenants.utils import get_public_schema_name, schema_context

from apps.tenants.models import Gym
from apps.wearables.services import (
    OAUTH_STATE_MAX_AGE,
    OAUTH_STATE_SALT,
    OAuthStateInvalidError,
    oauth_state_read,
)

CACHE_PREFIX = "wearables:pkce:"


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_start(
    *, gym: Gym, client_id: int, user_id: int, kinds: list[str], provider: str = ""
) -> tuple[str, str]:
    """A signed `state` for the consent redirect and the S256 `code_challenge` to send with it.
    `provider` (optional) is signed in too, so one provider's callback refuses another's state."""
    nonce = secrets.token_urlsafe(24)
    # 64 random bytes give an 86-character verifier (RFC 7636 allows 43 to 128).
    verifier = secrets.token_urlsafe(64)
    with schema_context(get_public_schema_name()):
        cache.set(CACHE_PREFIX + nonce, verifier, timeout=OAUTH_STATE_MAX_AGE)
    data: dict[str, Any] = {
        "gym": gym.schema_name,
        "client": client_id,
        "user": user_id,
        "kinds": list(kinds),
        "nonce": nonce,
    }
    if provider:
        data["provider"] = provider
    state = signing.dumps(data, salt=OAUTH_STATE_SALT)
    return state, _challenge(verifier)


def pkce_finish(*, state: str, provider: str = "") -> tuple[Gym, dict[str, Any], str]:
    """The gym, the state's data and the code_verifier for a callback's `state`; one use only.
    OAuthStateInvalidError if the state is forged, expired, already used, or (when `provider`
    is given) was signed for another provider."""
    gym, data = oauth_state_read(state=state)
    nonce = data.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise OAuthStateInvalidError("state carries no PKCE nonce")
    if provider and data.get("provider", provider) != provider:
        raise OAuthStateInvalidError("state was signed for another provider")
    key = CACHE_PREFIX + nonce
    with schema_context(get_public_schema_name()):
        verifier = cache.get(key)
        # delete() says whether this call removed the key: of two racing callbacks one wins.
        if verifier is None or not cache.delete(key):
            raise OAuthStateInvalidError("PKCE verifier missing or already used")
    return gym, data, verifier
