"""Writes about people: roles and invitations. Each service checks who may do it, writes its
audit event in the same transaction and sends email only once the transaction commits."""

from __future__ import annotations

import hashlib
import secrets

from allauth.account.models import EmailAddress
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Invitation, Role, User
from apps.accounts.roles import has_role, is_management
from apps.audit.services import audit_record, current_request_context
from apps.tenants.selectors import current_gym, gym_url, gym_url_for_request

# Who may invite whom. Owners are never invited: ownership is transferred, not granted.
INVITABLE_ROLES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset({Role.MANAGER, Role.TRAINER, Role.FRONT_DESK, Role.CLIENT}),
    Role.MANAGER: frozenset({Role.TRAINER, Role.FRONT_DESK, Role.CLIENT}),
}


def _ensure_crm_profile(user: User) -> None:
    # Imported here: the CRM builds on accounts, not the other way round.
    from apps.crm.services import profile_ensure_for_role

    profile_ensure_for_role(user=user)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def gym_link(*, path: str) -> str:
    """An absolute link on the current gym's host. Inside a request it keeps the scheme and
    port the person acting used (as allauth's password-reset links do); outside one (a task,
    a command) it falls back to the configured public port."""
    gym = current_gym()
    context = current_request_context.get()
    if context is not None:
        return gym_url_for_request(gym=gym, request=context.request, path=path)
    return gym_url(gym=gym, path=path)


def invitation_url(*, token: str) -> str:
    """The accept link, on the current gym's own host."""
    return gym_link(path=f"/accounts/invitation/{token}/")


def set_password_url(*, user: User) -> str:
    """allauth's password-reset link for `user`: one use, and void once the password changes."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return gym_link(path=path)


def welcome_email_send(*, user: User, inviter: User) -> None:
    """Tell someone whose account staff just created how to choose their password, through the
    notification service (branded, in their language, logged). It sends once the transaction
    commits, so a rolled-back account sends nothing."""
    from apps.notifications.services import notify

    notify(
        kind="account_welcome",
        recipient=user,
        context={
            "link": set_password_url(user=user),
            "inviter": inviter.get_full_name() or inviter.email,
            "role": Role(user.role).label,
        },
        event_key=f"account_welcome:{user.pk}",
    )


def user_change_role(*, actor: User, user: User, role: str) -> User:
    """Owners change roles. Nobody changes their own (so nobody can raise it)."""
    if not has_role(actor, Role.OWNER):
        raise PermissionDenied(_("Only an owner can change roles."))
    if actor.pk == user.pk:
        raise PermissionDenied(_("You cannot change your own role."))
    if role not in Role.values:
        raise ValidationError({"role": [_("Unknown role.")]})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = user.role
        if before == role:
            return user
        user.role = role
        # Only owners and managers work in the back office (Django admin).
        user.is_staff = role in (Role.OWNER, Role.MANAGER)
        user.save(update_fields=["role", "is_staff"])
        _ensure_crm_profile(user)
        audit_record(
            action="user.role_changed",
            actor=actor,
            obj=user,
            changes={"role": {"before": before, "after": role}},
        )
    return user


def invitation_create(*, actor: User, email: str, role: str) -> tuple[Invitation, str]:
    """Invite someone by email. Returns the invitation and the raw token (sent by email)."""
    email = (email or "").strip().lower()
    if not is_management(actor):
        raise PermissionDenied(_("Only owners and managers can invite people."))
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError as exc:
        errors["email"] = exc.messages
    if role not in INVITABLE_ROLES.get(actor.role, frozenset()):
        errors["role"] = [_("You cannot invite someone with this role.")]
    if "email" not in errors:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = [_("Someone with this email already has an account here.")]
        elif Invitation.objects.filter(
            email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).exists():
            errors["email"] = [_("This email already has an open invitation.")]
    if errors:
        raise ValidationError(errors)

    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # An expired, never-used invitation for the same email no longer blocks a new one.
        Invitation.objects.filter(
            email=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__lte=timezone.now(),
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            email=email, role=role, token_hash=_hash_token(token), invited_by=actor
        )
        audit_record(
            action="invitation.created",
            actor=actor,
            obj=invitation,
            changes={
                "email": {"before": None, "after": email},
                "role": {"before": None, "after": role},
            },
        )
        from apps.notifications.services import notify

        # The invitee has no account yet: the gym's language, their address.
        notify(
            kind="invitation",
            recipient=email,
            context={
                "link": invitation_url(token=token),
                "inviter": actor.get_full_name() or actor.email,
                "role": Role(role).label,
            },
            event_key=f"invitation:{invitation.pk}",
        )
    return invitation, token


def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    if not is_management(actor):
        raise PermissionDenied(_("Only owners and managers can revoke invitations."))
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is None and invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
            audit_record(action="invitation.revoked", actor=actor, obj=invitation)
    return invitation


def invitation_get_open(*, token: str) -> Invitation | None:
    """The invitation a link names, if it can still be used."""
    invitation = Invitation.objects.filter(token_hash=_hash_token(token or "")).first()
    if invitation is None or not invitation.is_open:
        return None
    return invitation


def invitation_accept(
    *, token: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """Create the invited account. Works once: the row is locked, so two clicks cannot make two
    accounts."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(token_hash=_hash_token(token or ""))
            .first()
        )
        if invitation is None or not invitation.is_open:
            raise ValidationError(
                {"token": [_("This invitation is invalid, has expired or was already used.")]}
            )
        candidate = User(email=invitation.email, first_name=first_name, last_name=last_name)
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ValidationError(
                {"token": [_("Someone with this email already has an account here.")]}
            )
        user = User.objects.create_user(
            email=invitation.email,
            password=password,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            role=invitation.role,
            is_staff=invitation.role in (Role.OWNER, Role.MANAGER),
        )
        # The invitation reached this address, which proves it.
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        invitation.accepted_at = timezone.now()
        invitation.user = user
        invitation.save(update_fields=["accepted_at", "user"])
        _ensure_crm_profile(user)
        audit_record(action="invitation.accepted", actor=user, obj=invitation)
    return user
