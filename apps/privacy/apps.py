from typing import Any

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "apps.privacy"
    label = "privacy"
    verbose_name = "Data rights"

    def ready(self) -> None:
        register_account_models()


def _erased_email(user: Any) -> str:
    return f"erased-{user.pk}@invalid.example"


def _unusable_password(user: Any) -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(None)


def register_account_models() -> None:
    """Accounts, allauth and the audit log are registered here rather than in their own apps
    (allauth is third-party; this keeps the data-rights rules for them in one place)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.usersessions.models import UserSession
    from django.contrib.auth import get_user_model

    from apps.privacy.registry import personal_data

    personal_data.register(
        get_user_model(),
        user_path="",
        # Never the password hash or permission flags.
        export_fields=[
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "time_zone",
            "language",
            "role",
            "is_active",
            "date_joined",
            "last_login",
        ],
        erase="anonymise",
        anonymise={
            "email": _erased_email,
            "first_name": "",
            "last_name": "",
            "phone": "",
            "is_active": False,
            "last_login": None,
            "password": _unusable_password,
        },
    )
    personal_data.register(
        EmailAddress, user_path="user", export_fields=["email", "verified", "primary"]
    )
    personal_data.register(
        UserSession,
        user_path="user",
        # Not session_key: it would let anyone holding the export take over the session.
        export_fields=["ip", "user_agent", "created_at", "last_seen_at"],
    )
    personal_data.register(
        Authenticator,
        user_path="user",
        # Not `data`: it holds the TOTP secret and recovery-code seed.
        export_fields=["type", "created_at", "last_used_at"],
    )
    # Kept (what happened, when, to which object) without who acted or from where; the audit
    # log's trigger (audit migration 0002) lets exactly these columns be blanked.
    personal_data.register(
        "audit.AuditEvent",
        user_path="actor",
        erase="anonymise",
        anonymise={"actor_email": "erased", "ip": None, "user_agent": ""},
        keep_for_law=True,
    )
