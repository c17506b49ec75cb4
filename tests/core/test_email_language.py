"""Emails speak the recipient's language (their own, else the gym's), not the sender's and not
a worker's default."""

from __future__ import annotations

from django.core import mail
from django.utils import translation

from apps.accounts.models import Role
from apps.accounts.services import invitation_create, welcome_email_send
from apps.tenants.branding import email_language
from tests.conftest import make_user


def test_the_recipients_language_then_the_gyms(in_gym_a):
    in_gym_a.language = "de"
    assert email_language(make_user(Role.CLIENT, "lang-es@alpha.example", language="es")) == "es"
    assert email_language(make_user(Role.CLIENT, "lang-none@alpha.example")) == "de"
    assert email_language() == "de"


def test_an_invitation_is_written_in_the_gyms_language(
    in_gym_a, owner_a, django_capture_on_commit_callbacks
):
    in_gym_a.language = "fr"
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        invitation_create(actor=owner_a, email="new-coach@alpha.example", role=Role.TRAINER)
    assert mail.outbox[-1].subject == "Vous êtes invité à rejoindre Alpha Fitness"


def test_a_welcome_is_written_in_the_new_users_language(
    in_gym_a, owner_a, django_capture_on_commit_callbacks
):
    user = make_user(Role.TRAINER, "hola@alpha.example", language="es")
    with translation.override("de"), django_capture_on_commit_callbacks(execute=True):
        welcome_email_send(user=user, inviter=owner_a)
    assert mail.outbox[-1].subject == "Tu cuenta en Alpha Fitness"
