"""Login lockouts (django-axes): who is locked out of this gym, and unlocking them.

Axes keeps its AccessAttempt rows in each gym's schema, so everything here is per gym. A lockout
is per (email, IP): AXES_FAILURE_LIMIT failures within AXES_COOLOFF_TIME of the last one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Sum
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import is_management
from apps.audit.services import audit_record

logger = logging.getLogger(__name__)

# Credential keys the login flows use: allauth passes `email`, the web form posts `login`, and
# axes itself calls back with `login` (AXES_USERNAME_FORM_FIELD) after a successful login.
_USERNAME_KEYS = ("login", "email", "username")


@dataclass(frozen=True)
class Lockout:
    username: str
    ip_address: str | None
    failures: int
    last_failure: datetime
    locked_until: datetime


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the email a login attempt was for, lower-cased.

    Without it axes would read only AXES_USERNAME_FORM_FIELD, which allauth's authenticate()
    call does not use, and lock out (no username, IP) instead of (email, IP). Lower-cased so
    `Owner@Gym` and `owner@gym` count against the same account, as they log in to the same one.
    """
    sources: list[Any] = [credentials or {}, getattr(request, "POST", {})]
    for source in sources:
        for key in _USERNAME_KEYS:
            value = source.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip().lower()
    return None


def _require_management(user: User) -> None:
    if not is_management(user):
        raise PermissionDenied


def _cool_off() -> timedelta:
    cool_off = get_cool_off()
    if cool_off is None:  # AXES_COOLOFF_TIME = None means lockouts never expire.
        return timedelta(days=365 * 100)
    return cool_off


def lockout_list(*, viewer: User) -> list[Lockout]:
    """Current lockouts in this gym, newest first. Owners and managers only."""
    _require_management(viewer)
    cool_off = _cool_off()
    limit = get_failure_limit(None, None)  # type: ignore[arg-type]
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last_failure=Max("attempt_time"))
        .filter(failures__gte=limit, username__isnull=False)
        .order_by("-last_failure", "username")
    )
    return [
        Lockout(
            username=row["username"],
            ip_address=row["ip_address"],
            failures=row["failures"],
            last_failure=row["last_failure"],
            locked_until=row["last_failure"] + cool_off,
        )
        for row in rows
    ]


@transaction.atomic
def lockout_clear(*, actor: User, username: str, request: HttpRequest | None = None) -> int:
    """Unlock `username` from every IP; returns how many attempt records were removed.

    With the request (the gym host the user logs in on), allauth's own per-account counter of
    failed logins (ACCOUNT_RATE_LIMITS["login_failed"]) is cleared too, or it would keep the
    user out for the rest of its window after the unlock.
    """
    _require_management(actor)
    username = username.strip().lower()
    with transaction.atomic():
        removed = axes_reset(username=username)
        audit_record(
            action="auth.lockout_cleared",
            actor=actor,
            object_type="accounts.user",
            object_id=username,
            changes={"attempts_removed": {"before": removed, "after": 0}},
            request=request,
        )
    if request is not None:
        from allauth.account.adapter import get_adapter

        # The same call allauth makes after a password reset. A cache write, not undone if
        # this transaction rolls back: at worst the user gets back a few more attempts.
        get_adapter(request)._delete_login_attempts_cached_email(request, email=username)
    logger.info(
        "login lockout cleared",
        extra={"username": username, "actor_id": actor.pk, "attempts_removed": removed},
    )
    return removed
