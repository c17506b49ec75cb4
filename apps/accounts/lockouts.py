"""Login lockouts (django-axes): who is locked out of this gym, and unlocking them.

Axes keeps its AccessAttempt rows in each gym's schema, so everything here is per gym. Failed
logins within AXES_COOLOFF_TIME of the last one are counted three ways (AXES_LOCKOUT_PARAMETERS),
each with its own limit: AXES_FAILURE_LIMIT per (email, IP), AXES_ACCOUNT_FAILURE_LIMIT per
email from any IP (guesses spread over many addresses), AXES_ADDRESS_FAILURE_LIMIT per IP over
any emails (one address trying many accounts). The IP is apps.core.client_address's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import (
    get_client_username,
    get_cool_off,
    get_failure_limit,
    get_lockout_parameters,
)
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
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


def _parameter_limit(parameter: str | list[str], base: int) -> int:
    if parameter in ("username", ["username"]):
        return settings.AXES_ACCOUNT_FAILURE_LIMIT
    if parameter in ("ip_address", ["ip_address"]):
        return settings.AXES_ADDRESS_FAILURE_LIMIT
    return base


class LockoutHandler(AxesDatabaseHandler):
    """AXES_HANDLER: axes' database handler with a limit per lockout parameter.

    Axes compares one number, get_failures, with one limit, AXES_FAILURE_LIMIT, wherever it
    decides on a lockout. Each parameter's count is scaled here so that it reaches that limit
    exactly when it reaches its own: count * base // own >= base if and only if count >= own.
    """

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        base = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        scaled = 0
        for parameter, attempts in zip(
            parameters, self.get_user_attempts(request, credentials), strict=True
        ):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            scaled = max(scaled, failures * base // _parameter_limit(parameter, base))
        return scaled

    def reset_user_attempts(self, request: Any, credentials: dict | None = None) -> int:
        """After a successful login (AXES_RESET_ON_SUCCESS): the failures of the account that
        logged in, from every address. Axes would also clear every failure of the IP, so one
        login to an account of one's own would wipe the count of guesses at everybody else's."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        removed, _ = AccessAttempt.objects.filter(username=username).delete()
        return removed


def _require_management(user: User) -> None:
    if not is_management(user):
        raise PermissionDenied


def _cool_off() -> timedelta:
    cool_off = get_cool_off()
    if cool_off is None:  # AXES_COOLOFF_TIME = None means lockouts never expire.
        return timedelta(days=365 * 100)
    return cool_off


def lockout_list(*, viewer: User) -> list[Lockout]:
    """Current lockouts in this gym, newest first. Owners and managers only.

    An account locked from one IP is listed with that IP; an account locked by failures from
    many IPs (AXES_ACCOUNT_FAILURE_LIMIT) is listed once with no IP.
    """
    _require_management(viewer)
    cool_off = _cool_off()
    limit = get_failure_limit(None, None)  # type: ignore[arg-type]
    recent = AccessAttempt.objects.filter(
        attempt_time__gte=timezone.now() - cool_off, username__isnull=False
    )
    totals = {"failures": Sum("failures_since_start"), "last_failure": Max("attempt_time")}
    pairs = recent.values("username", "ip_address").annotate(**totals).filter(failures__gte=limit)
    accounts = (
        recent.values("username")
        .annotate(**totals)
        .filter(failures__gte=settings.AXES_ACCOUNT_FAILURE_LIMIT)
    )
    lockouts = [
        Lockout(
            username=row["username"],
            ip_address=row.get("ip_address"),
            failures=row["failures"],
            last_failure=row["last_failure"],
            locked_until=row["last_failure"] + cool_off,
        )
        for row in [*pairs, *accounts]
    ]
    # An account already listed with an IP is not listed again without one.
    with_ip = {lock.username for lock in lockouts if lock.ip_address is not None}
    lockouts = [
        lock for lock in lockouts if lock.ip_address is not None or lock.username not in with_ip
    ]
    return sorted(lockouts, key=lambda lock: (-lock.last_failure.timestamp(), lock.username))


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
