"""Authentication events (Django, axes and allauth signals) written to the audit log of the
schema the request is in. Connected in AuditConfig.ready."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from apps.audit.services import audit_record

# Keys a login form or API may name the account by; the password is never read.
_IDENTITY_KEYS = ("email", "username", "login")


def _attempted_identity(credentials: dict[str, Any]) -> str:
    for key in _IDENTITY_KEYS:
        value = credentials.get(key)
        if isinstance(value, str) and value:
            return value.strip().lower()
    return ""


def _object_for(email: str) -> tuple[str, str]:
    """The account an attempt named, when it exists here, so the event shows up under it."""
    if not email:
        return "", ""
    user_model = get_user_model()
    found = (
        user_model._default_manager.filter(email__iexact=email).values_list("pk", flat=True).first()
    )
    return (user_model._meta.label_lower, str(found)) if found is not None else ("", "")


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(action="auth.login", actor=user, obj=user)


def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Sent with user None when nobody was logged in: nothing happened worth recording.
    if user is not None:
        audit_record(action="auth.logout", actor=user, obj=user)


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    email = _attempted_identity(credentials)
    object_type, object_id = _object_for(email)
    audit_record(
        action="auth.login_failed",
        actor_email=email,
        object_type=object_type,
        object_id=object_id,
    )


def on_locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any
) -> None:
    email = (username or "").strip().lower()
    object_type, object_id = _object_for(email)
    audit_record(
        action="auth.lockout",
        actor_email=email,
        object_type=object_type,
        object_id=object_id,
    )


def _on_user_event(action: str):  # type: ignore[no-untyped-def]
    def receiver(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
        audit_record(action=action, actor=user, obj=user)

    receiver.__name__ = f"on_{action.replace('.', '_')}"
    return receiver


on_password_changed = _on_user_event("auth.password_changed")
on_password_set = _on_user_event("auth.password_set")
on_password_reset = _on_user_event("auth.password_reset")


def on_email_confirmed(
    sender: Any, request: HttpRequest | None, email_address: Any, **kwargs: Any
) -> None:
    audit_record(
        action="auth.email_confirmed",
        actor=email_address.user,
        obj=email_address,
        changes={"verified": {"before": False, "after": True}},
    )


def _on_authenticator(action: str):  # type: ignore[no-untyped-def]
    def receiver(
        sender: Any, request: HttpRequest | None, user: Any, authenticator: Any, **kwargs: Any
    ) -> None:
        audit_record(
            action=action,
            actor=user,
            obj=authenticator,
            # The type only: the authenticator's data holds the TOTP secret and recovery seed.
            changes={"type": {"before": None, "after": authenticator.type}},
        )

    receiver.__name__ = f"on_{action.replace('.', '_')}"
    return receiver


on_mfa_activated = _on_authenticator("auth.mfa_activated")
on_mfa_deactivated = _on_authenticator("auth.mfa_deactivated")
on_mfa_reset = _on_authenticator("auth.mfa_reset")


def connect() -> None:
    uid = "apps.audit"
    user_logged_in.connect(on_logged_in, dispatch_uid=f"{uid}.login")
    user_logged_out.connect(on_logged_out, dispatch_uid=f"{uid}.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid=f"{uid}.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid=f"{uid}.lockout")
    account_signals.password_changed.connect(on_password_changed, dispatch_uid=f"{uid}.pw_change")
    account_signals.password_set.connect(on_password_set, dispatch_uid=f"{uid}.pw_set")
    account_signals.password_reset.connect(on_password_reset, dispatch_uid=f"{uid}.pw_reset")
    account_signals.email_confirmed.connect(on_email_confirmed, dispatch_uid=f"{uid}.email")
    mfa_signals.authenticator_added.connect(on_mfa_activated, dispatch_uid=f"{uid}.mfa_added")
    mfa_signals.authenticator_removed.connect(on_mfa_deactivated, dispatch_uid=f"{uid}.mfa_removed")
    mfa_signals.authenticator_reset.connect(on_mfa_reset, dispatch_uid=f"{uid}.mfa_reset")
