"""A client's own record exists from the moment they can use the portal: made when they are
invited or their role is set (apps.accounts.services) and, for logins made any other way (the
admin, an import, an older account), when they sign in. Pages only read it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name

from apps.accounts.models import Role


def ensure_profile_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Platform operators sign in on the public host, which has no CRM.
    if connection.schema_name == get_public_schema_name() or user.role != Role.CLIENT:
        return
    from apps.crm.services import profile_ensure_for_role

    with transaction.atomic():
        profile_ensure_for_role(user=user)


def connect() -> None:
    user_logged_in.connect(ensure_profile_on_login, dispatch_uid="crm.ensure_profile_on_login")
