"""Invitations and welcome mail carry a link that lets someone in: the person gets it, the
delivery log (which managers read in the admin) never keeps it."""

from __future__ import annotations

import re

from django.core import mail
from django.db import connection

from apps.accounts.models import Role
from apps.accounts.services import invitation_create, welcome_email_send
from apps.notifications.kinds import KINDS
from apps.notifications.models import Delivery, DeliveryStatus
from tests.conftest import make_user


def _stored(delivery: Delivery) -> str:
    """Every text column of the row as the database holds it (secret_content encrypted)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT subject, body, html, url, error, secret_content "
            "FROM notifications_delivery WHERE id = %s",
            [delivery.pk],
        )
        return " ".join(cursor.fetchone())


def test_an_invitations_link_is_sent_but_not_kept(
    in_gym_a, owner_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = invitation_create(
            actor=owner_a, email="secret-coach@alpha.example", role=Role.TRAINER
        )
    sent = mail.outbox[-1]
    assert token in sent.body
    assert token in sent.alternatives[0][0]
    delivery = Delivery.objects.get(kind="invitation")
    assert delivery.status == DeliveryStatus.SENT
    assert token not in _stored(delivery)
    assert "[link removed]" in delivery.body
    assert delivery.secret_content == ""  # the send is over: nothing kept to decrypt


def test_a_welcomes_set_password_link_is_sent_but_not_kept(
    in_gym_a, owner_a, django_capture_on_commit_callbacks
):
    user = make_user(Role.TRAINER, "secret-welcome@alpha.example")
    with django_capture_on_commit_callbacks(execute=True):
        welcome_email_send(user=user, inviter=owner_a)
    key = re.search(r"/password/reset/key/([^/\s]+)/", mail.outbox[-1].body).group(1)
    delivery = Delivery.objects.get(kind="account_welcome")
    assert key not in _stored(delivery)


def test_a_secret_waiting_for_a_retry_is_encrypted_at_rest(in_gym_a, owner_a, settings):
    settings.EMAIL_URL = "smtp://127.0.0.1:9?timeout=1"  # nothing listens: stays queued
    _invitation, token = invitation_create(
        actor=owner_a, email="later-coach@alpha.example", role=Role.TRAINER
    )
    delivery = Delivery.objects.get(kind="invitation")
    assert token not in _stored(delivery)
    assert token in delivery.secret_content  # decrypted for the send, and only there


def test_account_kinds_are_secret():
    secret = {kind.key for kind in KINDS if kind.secret}
    assert secret == {"invitation", "account_welcome", "account_security"}
