"""allauth's own mail (password reset, email confirmation) comes in the gym's branded layout,
from the gym, at once: quiet hours and preferences do not hold it back."""

from __future__ import annotations

from datetime import time

from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.notifications.models import Preference
from tests.conftest import ALPHA, make_user


def test_a_password_reset_is_branded_and_not_held_by_quiet_hours(gym_a) -> None:
    with tenant_context(gym_a):
        user = make_user(Role.TRAINER, "quiet.reset@alpha.example")
        # Quiet all day but one minute: a notification would wait; account mail does not.
        Preference.objects.create(user=user, quiet_start=time(0, 0), quiet_end=time(23, 59))
    mail.outbox.clear()
    response = Client(HTTP_HOST=ALPHA.host).post(
        "/accounts/password/reset/", {"email": "quiet.reset@alpha.example"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["quiet.reset@alpha.example"]
    assert "Alpha Fitness" in message.from_email
    assert message.subject.startswith("[Alpha Fitness]")
    assert "/accounts/password/reset/key/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert gym_a.brand_colour in html
    assert "/accounts/password/reset/key/" in html
    assert "&lt;p&gt;" not in html


def test_an_invitation_is_a_logged_branded_notification(
    in_gym_a, owner_a, django_capture_on_commit_callbacks
) -> None:
    from apps.accounts.services import invitation_create
    from apps.notifications.models import Delivery, DeliveryStatus
    from apps.notifications.services import notify

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _token = invitation_create(
            actor=owner_a, email="New.Coach@alpha.example", role=Role.TRAINER
        )
    delivery = Delivery.objects.get(kind="invitation")
    assert delivery.address == "new.coach@alpha.example"
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.event_key == f"invitation:{invitation.pk}:enew.coach@alpha.example"
    assert delivery.recipient_user is None
    assert delivery.recipient_client is None
    message = mail.outbox[0]
    assert in_gym_a.brand_colour in message.alternatives[0][0]
    # Someone without an account gets account mail only, nothing a preference would govern.
    assert notify(kind="test", recipient="new.coach@alpha.example", context={}, event_key="x") == []
