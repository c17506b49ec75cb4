"""Writes of the Stripe side: connecting and disconnecting a gym's account (Connect OAuth for
Standard accounts), and the webhook inbox: each event stored once, then processed once in the
gym its connected account belongs to."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import stripe
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.services import audit_record
from apps.billing import services as billing_services
from apps.billing import stripe_gateway
from apps.connect.event_handlers import HANDLERS
from apps.connect.models import ConnectedAccount, StripeEvent, StripeEventStatus
from apps.connect.selectors import connected_account_for_gym, stripe_event_route
from apps.tenants.models import Gym

logger = logging.getLogger(__name__)

OAUTH_STATE_SALT = "connect.stripe.oauth"
# Long enough for an owner to fill in Stripe's onboarding forms, short enough that a leaked
# link soon stops working.
OAUTH_STATE_MAX_AGE = 60 * 60
WEBHOOK_TOLERANCE_SECONDS = 300
LAST_EVENT_GRAIN = timedelta(seconds=5)
_ERROR_LENGTH = 2000

# What each gym event does is in apps.connect.event_handlers (read into billing's services);
# account events are ours.
ACCOUNT_EVENTS = frozenset({"account.updated", "account.application.deauthorized"})
HANDLED_EVENT_TYPES = frozenset(HANDLERS) | ACCOUNT_EVENTS


class OAuthStateInvalidError(Exception):
    """The `state` of a Connect callback is forged, expired or names no gym."""


# --- Connect OAuth ---------------------------------------------------------------------------


def connect_authorize_url(*, gym: Gym, user_id: int, redirect_uri: str) -> str:
    """Where "Connect Stripe" sends the owner: Stripe's OAuth page for Standard accounts,
    with a signed `state` naming the gym and who started it (the callback lands on the public
    host, which has no session of the gym's)."""
    state = signing.dumps({"gym": gym.schema_name, "user": user_id}, salt=OAUTH_STATE_SALT)
    params = {
        "response_type": "code",
        "client_id": settings.STRIPE_CONNECT_CLIENT_ID,
        "scope": "read_write",
        "state": state,
        "redirect_uri": redirect_uri,
    }
    return f"{settings.STRIPE_CONNECT_API_BASE}/oauth/authorize?{urlencode(params)}"


def connect_oauth_state_read(*, state: str) -> tuple[Gym, int]:
    """The gym and user a callback's `state` was signed for."""
    try:
        data = signing.loads(state, salt=OAUTH_STATE_SALT, max_age=OAUTH_STATE_MAX_AGE)
        gym = Gym.objects.get(schema_name=data["gym"])
        return gym, int(data["user"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, Gym.DoesNotExist) as error:
        raise OAuthStateInvalidError from error


def _account_fields(account: Mapping[str, Any]) -> dict[str, Any]:
    settings_ = account.get("settings") or {}
    dashboard = settings_.get("dashboard") or {}
    profile = account.get("business_profile") or {}
    name = dashboard.get("display_name") or profile.get("name") or account.get("email") or ""
    return {
        "charges_enabled": bool(account.get("charges_enabled")),
        "payouts_enabled": bool(account.get("payouts_enabled")),
        "details_submitted": bool(account.get("details_submitted")),
        "display_name": str(name)[:255],
    }


def _audit_in_gym(
    *,
    gym: Gym,
    action: str,
    account: ConnectedAccount,
    user_id: int | None,
    changes: Mapping[str, Any] | None = None,
) -> None:
    from apps.accounts.models import User

    with tenant_context(gym):
        actor = User.objects.filter(pk=user_id).first() if user_id else None
        audit_record(
            action=action,
            actor=actor,
            object_type="connect.connectedaccount",
            object_id=account.account_id,
            changes=changes or {},
        )


def connected_account_connect(*, gym: Gym, code: str, user_id: int) -> ConnectedAccount:
    """Finish Connect OAuth: exchange the code for the account id, read the account's state,
    and make it the gym's account. An account another gym uses is refused."""
    token = stripe_gateway.platform_client().oauth.token(
        {"grant_type": "authorization_code", "code": code}
    )
    account_id = str(token["stripe_user_id"])
    livemode = bool(token.get("livemode", False))
    account = stripe_gateway.platform_client().v1.accounts.retrieve(account_id).to_dict()
    now = timezone.now()
    with transaction.atomic():
        existing = ConnectedAccount.objects.select_for_update().filter(account_id=account_id)
        row = existing.first()
        if row is not None and row.gym_id != gym.pk and row.is_active:
            raise ValueError(f"{account_id} is connected to another gym")
        previous = ConnectedAccount.objects.filter(gym=gym).order_by("-connected_at").first()
        # The gym's previous account, if any, stops being the one its calls carry.
        ConnectedAccount.objects.filter(gym=gym, disconnected_at__isnull=True).exclude(
            account_id=account_id
        ).update(disconnected_at=now)
        if row is None:
            row = ConnectedAccount(account_id=account_id)
        row.gym = gym
        row.livemode = livemode
        row.connected_at = now
        row.disconnected_at = None
        row.last_error = ""
        row.last_error_at = None
        for field, value in _account_fields(account).items():
            setattr(row, field, value)
        row.save()
        _audit_in_gym(
            gym=gym,
            action="billing.stripe_connected",
            account=row,
            user_id=user_id,
            changes={"livemode": {"before": None, "after": livemode}},
        )
        billing_services.catalogue_push_on_connect(
            gym=gym,
            account_changed=previous is None
            or (previous.account_id, previous.livemode) != (account_id, livemode),
        )
    return row


def connected_account_disconnect(*, gym: Gym, user_id: int) -> ConnectedAccount | None:
    """Deauthorise the platform on the gym's account (Stripe stops sending its events and
    refuses our calls for it) and mark it disconnected here. The row stays: events that were
    already on their way still find their gym."""
    account = connected_account_for_gym(gym=gym)
    if account is None:
        return None
    try:
        stripe_gateway.platform_client().oauth.deauthorize(
            {"client_id": settings.STRIPE_CONNECT_CLIENT_ID, "stripe_user_id": account.account_id}
        )
    except stripe.StripeError as error:
        # Already deauthorised from Stripe's side (the owner revoked us in their dashboard):
        # nothing left to undo there; anything else is a real failure.
        if getattr(error, "http_status", None) not in (400, 401, 403, 404):
            raise
    with transaction.atomic():
        ConnectedAccount.objects.filter(pk=account.pk).update(disconnected_at=timezone.now())
        account.refresh_from_db()
        _audit_in_gym(
            gym=gym, action="billing.stripe_disconnected", account=account, user_id=user_id
        )
    return account


def connected_account_refresh(*, account_id: str) -> ConnectedAccount | None:
    """Bring our copy of an account's state (charges, payouts, details) up to date from
    Stripe (account.updated)."""
    row = ConnectedAccount.objects.filter(account_id=account_id).first()
    if row is None:
        return None
    account = stripe_gateway.platform_client().v1.accounts.retrieve(account_id).to_dict()
    ConnectedAccount.objects.filter(pk=row.pk).update(**_account_fields(account))
    row.refresh_from_db()
    return row


def connected_account_deauthorized(*, account_id: str) -> ConnectedAccount | None:
    """The owner revoked the platform in their Stripe dashboard."""
    row = ConnectedAccount.objects.filter(account_id=account_id).first()
    if row is None or not row.is_active:
        return row
    ConnectedAccount.objects.filter(pk=row.pk).update(disconnected_at=timezone.now())
    row.refresh_from_db()
    _audit_in_gym(gym=row.gym, action="billing.stripe_deauthorized", account=row, user_id=None)
    return row


# --- Webhooks: stored once ---------------------------------------------------------------------


def stripe_event_receive(*, payload: bytes, signature: str) -> tuple[StripeEvent, bool]:
    """Verify a webhook delivery and store its event once; returns (event, stored now).
    Raises stripe.SignatureVerificationError (bad signature, stale timestamp) or ValueError
    (not an event) before anything is stored. Known events go to Celery after commit; others
    are kept, marked ignored."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise stripe.SignatureVerificationError("No webhook secret is configured", signature)
    stripe.Webhook.construct_event(payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS)
    data = json.loads(payload)
    event_id = str(data.get("id") or "")
    if not event_id.startswith("evt_"):
        raise ValueError("Not a Stripe event")
    event_type = str(data.get("type") or "")
    known = event_type in HANDLED_EVENT_TYPES
    obj = (data.get("data") or {}).get("object") or {}
    event = StripeEvent(
        event_id=event_id,
        type=event_type[:100],
        account=str(data.get("account") or ""),
        object_id=str(obj.get("id") or "")[:255] if isinstance(obj, dict) else "",
        livemode=bool(data.get("livemode")),
        created=datetime.fromtimestamp(int(data.get("created") or 0), tz=UTC),
        payload=data,
        status=StripeEventStatus.RECEIVED if known else StripeEventStatus.IGNORED,
    )
    try:
        with transaction.atomic():
            event.save(force_insert=True)
    except IntegrityError:
        # Stripe delivered it again (or two deliveries raced): the first one is all we keep.
        return StripeEvent.objects.defer("payload").get(event_id=event_id), False
    if known:
        from apps.connect.tasks import stripe_event_process_task

        transaction.on_commit(lambda: stripe_event_process_task.delay(event.pk))
    return event, True


# --- Webhooks: processed once ------------------------------------------------------------------

# Events carry the object as it was when Stripe created them, and arrive late, twice and out of
# order. An event's own copy is applied when it is newer than every event about that object
# applied before (the usual case, and a worker catching up takes its backlog in Stripe's order):
# any later change sends an event of its own, newer still, so the last state applied is the
# object's current one. An event no newer than one applied already (out of order, or in the
# same second: `created` counts whole seconds) may carry an older state, so the object is read
# back from Stripe instead; so is nothing when the copy is in a state the object never leaves.
_READ_BACK_KINDS = frozenset({"subscription", "invoice", "checkout.session"})
_FINAL_STATES = {
    "subscription": frozenset({"canceled", "incomplete_expired"}),
    "invoice": frozenset({"paid", "void"}),
}
_DONE = (StripeEventStatus.PROCESSED, StripeEventStatus.IGNORED)


def _lock_stripe_object(account: str, object_id: str) -> None:
    # Two events about one object (an update and a delete) are applied one after the other,
    # so the newest-applied test below sees every event applied before.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"stripe:{account}:{object_id}"],
        )


def _object_state(event: StripeEvent, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The state to act on for `event`'s object (see above): its own copy, or Stripe's."""
    kind = str(obj.get("object", ""))
    object_id = str(obj.get("id") or "")
    if kind not in _READ_BACK_KINDS or not object_id:
        return dict(obj)
    if obj.get("status") in _FINAL_STATES.get(kind, ()):
        return dict(obj)
    applied_since = (
        StripeEvent.objects.filter(
            account=event.account,
            object_id=object_id,
            created__gte=event.created,
            status=StripeEventStatus.PROCESSED,
        )
        .exclude(pk=event.pk)
        .exists()
    )
    if not applied_since:
        return dict(obj)
    return stripe_gateway.stripe_object_retrieve(account_id=event.account or None, obj=obj)


@dataclass
class _Routing:
    """What one task or batch learnt about accounts: each account's gym (asked once, as every
    event of a connected account is for one gym), and the accounts whose last event was noted
    less than LAST_EVENT_GRAIN ago (no write needed)."""

    gyms: dict[str, Gym | None] = field(default_factory=dict)
    noted: set[str] = field(default_factory=set)


def _event_gym(event: StripeEvent, obj: Mapping[str, Any], routing: _Routing) -> Gym | None:
    key = event.account if event.account and settings.STRIPE_MODE != "direct" else None
    if key is not None and key in routing.gyms:
        return routing.gyms[key]
    gym, account = stripe_event_route(account=event.account, metadata=obj.get("metadata"))
    if key is not None:
        routing.gyms[key] = gym
    noted_at = account.last_event_at if account is not None else None
    if noted_at is not None and noted_at >= timezone.now() - LAST_EVENT_GRAIN:
        routing.noted.add(account.account_id)
    return gym


def _apply(event: StripeEvent, routing: _Routing) -> tuple[str, Gym | None]:
    """Apply one event; returns its final status and the gym it was for."""
    data = event.payload.get("data") or {}
    obj = data.get("object") or {}
    if event.type == "account.updated":
        row = connected_account_refresh(account_id=event.account or str(obj.get("id", "")))
        return StripeEventStatus.PROCESSED, row.gym if row else None
    if event.type == "account.application.deauthorized":
        row = connected_account_deauthorized(account_id=event.account)
        return StripeEventStatus.PROCESSED, row.gym if row else None
    gym = _event_gym(event, obj, routing)
    handler = HANDLERS.get(event.type)
    if gym is None or handler is None:
        return StripeEventStatus.IGNORED, gym
    _lock_stripe_object(event.account, str(obj.get("id", "")))
    current = _object_state(event, obj)
    with tenant_context(gym):
        handler(obj=current, event_type=event.type, event_id=event.event_id)
    return StripeEventStatus.PROCESSED, gym


def _process(event_pk: int, routing: _Routing, read: StripeEvent | None = None) -> tuple[str, str]:
    """Process one stored event at most once: its row is locked, and an event processed (or
    ignored) meanwhile is left alone. `read`: the event as a batch read it (its payload never
    changes), so only its status is read again under the lock. Returns the status and the
    event's account. A failure is recorded on the event and on the gym's account, then
    raised."""
    account = read.account if read is not None else None
    try:
        with transaction.atomic():
            locked = StripeEvent.objects.select_for_update().filter(pk=event_pk)
            if read is None:
                event = locked.get()
                status = event.status
                account = event.account
            else:
                event = read
                status = locked.values_list("status", flat=True).get()
            if status in _DONE:
                return status, account or ""
            status, gym = _apply(event, routing)
            StripeEvent.objects.filter(pk=event_pk).update(
                status=status,
                gym=gym,
                attempts=F("attempts") + 1,
                processed_at=timezone.now(),
                last_error="",
            )
            return status, account or ""
    except Exception as error:
        message = f"{type(error).__name__}: {error}"[:_ERROR_LENGTH]
        logger.warning("Stripe event %s failed: %s", event_pk, message)
        StripeEvent.objects.filter(pk=event_pk).update(
            status=StripeEventStatus.FAILED, attempts=F("attempts") + 1, last_error=message
        )
        if account is None:
            account = (
                StripeEvent.objects.filter(pk=event_pk).values_list("account", flat=True).first()
            )
        if account:
            ConnectedAccount.objects.filter(account_id=account).update(
                last_error=message, last_error_at=timezone.now(), last_event_at=timezone.now()
            )
        raise


def _note_last_event(accounts: set[str]) -> None:
    # At most one write a few seconds per account: every event of a busy gym would otherwise
    # queue on this one row.
    if not accounts:
        return
    now = timezone.now()
    ConnectedAccount.objects.filter(account_id__in=accounts).filter(
        Q(last_event_at__isnull=True) | Q(last_event_at__lt=now - LAST_EVENT_GRAIN)
    ).update(last_event_at=now)


def stripe_event_process(*, event_pk: int) -> str:
    """Process one stored event, at most once whatever the number of deliveries or task
    runs. A failure is recorded on the event and on the gym's account, then raised so the task
    retries."""
    routing = _Routing()
    status, account = _process(event_pk, routing)
    _note_last_event({account} - {""} - routing.noted)
    return status


STRIPE_EVENT_BATCH = 100


def stripe_events_process_pending(*, received_before: datetime | None = None) -> dict[str, int]:
    """Process the events still waiting (a worker catching up after an outage, or events whose
    task was lost): read a hundred at a time and applied in the order Stripe created them,
    each in its own transaction as `stripe_event_process` does. A failure is recorded on its
    event and the others go on. Returns how many ended in each status."""
    counts: dict[str, int] = {}
    routing = _Routing()
    waiting = StripeEvent.objects.filter(status=StripeEventStatus.RECEIVED)
    if received_before is not None:
        waiting = waiting.filter(received_at__lt=received_before)
    last: tuple[datetime, int] | None = None
    while True:
        page = waiting
        if last is not None:
            page = page.filter(Q(created__gt=last[0]) | Q(created=last[0], pk__gt=last[1]))
        events = list(page.order_by("created", "pk")[:STRIPE_EVENT_BATCH])
        if not events:
            break
        for event in events:
            try:
                status, _ = _process(event.pk, routing, read=event)
            except Exception:  # recorded on the event by _process; the others go on
                status = StripeEventStatus.FAILED
            counts[status] = counts.get(status, 0) + 1
        last = (events[-1].created, events[-1].pk)
        _note_last_event({event.account for event in events} - {""} - routing.noted)
        routing.noted.clear()  # true when read: the next batch writes again
    return counts
