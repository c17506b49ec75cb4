"""Signed links in campaign mail: one unsubscribe link and tracked redirects per recipient.

Each token is signed (django.core.signing, with a salt per kind of link so an unsubscribe token
is no click token) and carries the gym's schema: a link of gym A opened on gym B's host fails
the schema check and changes nothing there. A click token carries its target URL, so the
redirect goes only where a campaign's author linked (no open redirect); links never expire, as
an unsubscribe link in an old mail must keep working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core import signing
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from apps.tenants.selectors import current_gym, gym_url

UNSUBSCRIBE_SALT = "campaigns.unsubscribe"
CLICK_SALT = "campaigns.click"

# A link in an author's text: http(s) up to whitespace or a character that ends prose.
URL_PATTERN = re.compile(r"https?://[^\s<>\"'()]+[^\s<>\"'().,;:!?]")


class BadLinkError(Exception):
    """A token that is not ours, was changed, or belongs to another gym."""


@dataclass(frozen=True)
class LinkTarget:
    campaign_id: int
    client_id: int
    channel: str = "email"
    url: str = ""


def _dumps(payload: dict, salt: str) -> str:
    return signing.dumps({"s": connection.schema_name, **payload}, salt=salt, compress=True)


def _loads(token: str, salt: str) -> dict:
    try:
        payload = signing.loads(token, salt=salt)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadLinkError from error
    if not isinstance(payload, dict) or payload.get("s") != connection.schema_name:
        raise BadLinkError
    try:
        int(payload["m"]), int(payload["c"])
    except (KeyError, TypeError, ValueError) as error:
        raise BadLinkError from error
    return payload


def unsubscribe_token(*, campaign_id: int, client_id: int, channel: str = "email") -> str:
    return _dumps({"m": campaign_id, "c": client_id, "ch": channel}, UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> LinkTarget:
    payload = _loads(token, UNSUBSCRIBE_SALT)
    return LinkTarget(int(payload["m"]), int(payload["c"]), str(payload.get("ch", "email")))


def click_token(*, campaign_id: int, client_id: int, url: str) -> str:
    return _dumps({"m": campaign_id, "c": client_id, "u": url}, CLICK_SALT)


def read_click_token(token: str) -> LinkTarget:
    payload = _loads(token, CLICK_SALT)
    url = payload.get("u")
    if not isinstance(url, str) or not URL_PATTERN.fullmatch(url):
        raise BadLinkError
    return LinkTarget(int(payload["m"]), int(payload["c"]), url=url)


class LinkBuilder:
    """Absolute links on the gym's own host for one campaign; read the gym once per batch."""

    def __init__(self, campaign_id: int) -> None:
        self.campaign_id = campaign_id
        self.gym = current_gym()
        # Resolved once: a campaign run builds thousands of links. Tokens are URL-safe, so
        # putting one in place of the stand-in is what reverse() would produce.
        self._prefixes = {
            name: self._absolute(reverse(f"campaigns:{name}", args=["TOKEN"])).split("TOKEN")
            for name in ("unsubscribe", "click")
        }
        self._clicks: dict[tuple[int, str], str] = {}

    def _absolute(self, path: str) -> str:
        return gym_url(gym=self.gym, path=path)

    def unsubscribe_url(self, client_id: int, channel: str = "email") -> str:
        token = unsubscribe_token(
            campaign_id=self.campaign_id, client_id=client_id, channel=channel
        )
        before, after = self._prefixes["unsubscribe"]
        return f"{before}{token}{after}"

    def click_url(self, client_id: int, url: str) -> str:
        key = (client_id, url)
        if key not in self._clicks:
            if len(self._clicks) > 1000:
                self._clicks.clear()
            token = click_token(campaign_id=self.campaign_id, client_id=client_id, url=url)
            before, after = self._prefixes["click"]
            self._clicks[key] = f"{before}{token}{after}"
        return self._clicks[key]

    def tracked_text(self, text: str, client_id: int) -> str:
        """Plain text with each link replaced by its tracked redirect."""
        return URL_PATTERN.sub(lambda m: self.click_url(client_id, m.group(0)), text)

    def tracked_html(self, text: str, client_id: int, *, track: bool = True) -> str:
        """Plain text as HTML paragraphs, each link an anchor (to its tracked redirect when
        `track`) that shows the author's own URL."""

        def paragraph(block: str) -> str:
            parts: list[str] = []
            last = 0
            for match in URL_PATTERN.finditer(block):
                parts.append(escape(block[last : match.start()]))
                url = match.group(0)
                href = self.click_url(client_id, url) if track else url
                parts.append(f'<a href="{escape(href)}">{escape(url)}</a>')
                last = match.end()
            parts.append(escape(block[last:]))
            return "<p>" + "".join(parts).replace("\n", "<br>\n") + "</p>"

        blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
        return "\n".join(paragraph(block) for block in blocks)
