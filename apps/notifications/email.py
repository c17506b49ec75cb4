"""Building and sending the gym's email: the branded layout, the gym's sender, and one mail
connection per category.

Connections come from URLs so operators configure a provider in one line:

    EMAIL_URL=smtp://user:password@smtp.example.com:587?tls=1     (Django's SMTP backend)
    EMAIL_URL=smtps://user:password@smtp.example.com:465
    EMAIL_URL=anymail+postmark://SERVER_TOKEN@                     (django-anymail's backend)
    EMAIL_URL=anymail+mailgun://API_KEY@?sender_domain=mg.example.com
    EMAIL_URL=console://                                           (print, development)
    MARKETING_EMAIL_URL=anymail+postmark://BROADCAST_TOKEN@        (optional, campaigns only)

For `anymail+<esp>`, the user part is the ESP's main credential (`api_key`, or `server_token`
for Postmark) and each query parameter is passed to anymail's backend as a keyword (for
example `api_url=` to point it elsewhere). With no EMAIL_URL, Django's own EMAIL_BACKEND and
EMAIL_HOST settings apply. Marketing mail uses MARKETING_EMAIL_URL when set, so a complaint
about a newsletter never hurts the reputation of the stream that carries booking mail.

The sender: a gym whose `email_sender` is on a domain the operator verified
(`email_sender_verified`) sends from it. Otherwise the envelope and From address are the
platform's DEFAULT_FROM_EMAIL, shown under the gym's name, with Reply-To the gym's sender or
contact address, so replies still reach the gym and SPF/DKIM still pass.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection as db_connection
from django.template.loader import render_to_string
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe

from apps.notifications.models import Category

# The keyword each ESP's anymail backend takes its main credential as.
_ANYMAIL_CREDENTIAL = {
    "postmark": "server_token",
    "mailgun": "api_key",
    "sendgrid": "api_key",
    "brevo": "api_key",
    "sendinblue": "api_key",
    "mailjet": "api_key",
    "mandrill": "api_key",
    "sparkpost": "api_key",
    "resend": "api_key",
    "postal": "key",
}
_TRUE = ("1", "true", "yes", "on")


def backend_for_url(url: str) -> tuple[str, dict[str, Any]]:
    """(backend dotted path, keyword arguments) for an EMAIL_URL; ValueError when unknown."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    query = dict(parse_qsl(parts.query))
    if scheme.startswith("anymail+"):
        esp = scheme.removeprefix("anymail+").replace("-", "_")
        options: dict[str, Any] = dict(query)
        credential = unquote(parts.password or parts.username or "")
        if credential:
            options[_ANYMAIL_CREDENTIAL.get(esp, "api_key")] = credential
        return f"anymail.backends.{esp}.EmailBackend", options
    if scheme in ("smtp", "smtps", "smtp+tls"):
        options = {
            "host": parts.hostname or "localhost",
            "port": parts.port or (465 if scheme == "smtps" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_ssl": scheme == "smtps",
            "use_tls": scheme == "smtp+tls" or query.get("tls", "").lower() in _TRUE,
        }
        if "timeout" in query:
            options["timeout"] = float(query["timeout"])
        return "django.core.mail.backends.smtp.EmailBackend", options
    simple = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if scheme in simple:
        return simple[scheme], {}
    raise ValueError(f"EMAIL_URL scheme {scheme!r} is not one of smtp, smtps, anymail+<esp>, ...")


def connection_for(category: str) -> BaseEmailBackend:
    """The mail connection for transactional or marketing mail (see the module docstring)."""
    url = ""
    if category == Category.MARKETING:
        url = getattr(settings, "MARKETING_EMAIL_URL", "")
    url = url or getattr(settings, "EMAIL_URL", "")
    if not url:
        return get_connection()
    backend, options = backend_for_url(url)
    return get_connection(backend, **options)


def provider_for(category: str) -> str:
    """A short name for the log: the ESP's name, or "smtp"."""
    url = getattr(settings, "MARKETING_EMAIL_URL", "") if category == Category.MARKETING else ""
    url = url or getattr(settings, "EMAIL_URL", "")
    scheme = urlsplit(url).scheme.lower() if url else ""
    if scheme.startswith("anymail+"):
        return scheme.removeprefix("anymail+")
    return "smtp"


def _current_gym() -> Any:
    from apps.tenants.models import Gym

    gym = getattr(db_connection, "tenant", None)
    return gym if isinstance(gym, Gym) else None


def sender_for(gym: Any) -> tuple[str, list[str]]:
    """(From header, Reply-To list) for mail on the gym's behalf."""
    _name, platform_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if gym is None:
        return settings.DEFAULT_FROM_EMAIL, []
    own = getattr(gym, "email_sender", "")
    if own and getattr(gym, "email_sender_verified", False):
        return formataddr((gym.name, own)), []
    reply_to = own or gym.contact_email
    return formataddr((gym.name, platform_address)), [reply_to] if reply_to else []


def layout_context(gym: Any) -> dict[str, Any]:
    """What the branded layout shows: the gym's name, logo, colour and contact details."""
    from apps.tenants.selectors import gym_url

    if gym is None:
        return {"gym": None, "gym_name": "FitnessCRM", "brand_colour": "#0b6e4f"}
    return {
        "gym": gym,
        "gym_name": gym.name,
        "brand_colour": gym.brand_colour,
        "logo_url": gym_url(gym=gym, path=f"/brand/logo.png?v={gym.brand_version}")
        if gym.logo_name
        else "",
        "gym_home_url": gym_url(gym=gym, path="/"),
    }


def wrap_text(text: str, *, gym: Any = None, footer: str = "") -> str:
    return render_to_string(
        "email/base.txt", {**layout_context(gym), "content": text, "footer": footer}
    )


def wrap_html(text: str, *, gym: Any = None, footer: str = "") -> str:
    """The text body as HTML paragraphs (escaped) in the branded layout."""
    return render_to_string(
        "email/base.html",
        {
            **layout_context(gym),
            # linebreaks escaped the text: the paragraphs it adds are the only markup.
            "content_html": mark_safe(linebreaks(text, autoescape=True)),  # noqa: S308
            "footer": footer,
        },
    )


def build_email(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    category: str,
    headers: dict[str, str] | None = None,
    reply_to: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    wrapped: bool = False,
) -> EmailMultiAlternatives:
    """A message from the current gym in its branded layout (text and HTML), on the connection
    for `category`. `html` is the HTML body's content (already escaped/rendered) or None to
    derive it from `text`; `wrapped=True` says both are already whole documents. `metadata`
    reaches the ESP (anymail) and comes back with its tracking events."""
    gym = _current_gym()
    from_email, gym_reply_to = sender_for(gym)
    if not wrapped:
        html = (
            render_to_string(
                "email/base.html",
                # The caller rendered and escaped it (see the docstring).
                {**layout_context(gym), "content_html": mark_safe(html)},  # noqa: S308
            )
            if html is not None
            else wrap_html(text, gym=gym)
        )
        text = wrap_text(text, gym=gym)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=from_email,
        to=[to],
        reply_to=reply_to if reply_to is not None else gym_reply_to,
        headers=headers or {},
        connection=connection_for(category),
    )
    if html:
        message.attach_alternative(html, "text/html")
    schema = getattr(db_connection, "schema_name", "")
    message.metadata = {"schema": schema, "category": category, **(metadata or {})}  # type: ignore[attr-defined]
    if category == Category.MARKETING:
        message.tags = ["marketing"]  # type: ignore[attr-defined]
    return message
