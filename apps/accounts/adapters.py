from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext

from apps.core.client_address import client_address


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

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's rate limits and sessions read the address by the rule every other counter
        # uses; allauth's own reading raises ImproperlyConfigured (a 500) on a short
        # X-Forwarded-For.
        address = client_address(request)
        if address is None:
            raise PermissionDenied(gettext("Unable to determine the client's address."))
        return address
