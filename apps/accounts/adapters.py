from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext

from apps.core.client_address import client_address

if TYPE_CHECKING:
    from django.core.mail import EmailMessage


class AccountAdapter(DefaultAccountAdapter):
    """Gyms add staff and members themselves; nobody signs up to a gym uninvited."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def format_email_subject(self, subject: str) -> str:
        """Emails from a gym's host carry the gym's name, not the platform's."""
        from django.db import connection

        from apps.tenants.models import Gym

        gym = getattr(connection, "tenant", None)
        if isinstance(gym, Gym):
            return f"[{gym.name}] {subject}"
        return super().format_email_subject(subject)

    def render_mail(
        self,
        template_prefix: str,
        email: str | list[str],
        context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        """allauth's account mail (password reset, email confirmation, ...) in the gym's
        branded layout (templates/email/base.*), from the gym's sender, on the transactional
        connection: the one email builder every send uses (apps.notifications.email).

        These are mandatory and urgent: allauth sends them at once, whatever the person's
        preferences or quiet hours. They do not go through notify(): its delivery log keeps
        what it sends, and these carry links that act for the account (a reset key)."""
        from apps.notifications.email import build_email
        from apps.notifications.models import Category

        plain = super().render_mail(template_prefix, email, context, headers)
        recipients = [email] if isinstance(email, str) else list(email)
        message = build_email(
            to=recipients[0],
            subject=plain.subject,
            text=plain.body,
            category=Category.TRANSACTIONAL,
            headers=headers,
        )
        message.to = recipients
        return message

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's rate limits and sessions read the address by the rule every other counter
        # uses; allauth's own reading raises ImproperlyConfigured (a 500) on a short
        # X-Forwarded-For.
        address = client_address(request)
        if address is None:
            raise PermissionDenied(gettext("Unable to determine the client's address."))
        return address
