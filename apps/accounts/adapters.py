from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Gyms add staff and members themselves; nobody signs up to a gym uninvited."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
