"""Production refuses to start insecurely: `check --deploy` errors on debug, a published or weak
SECRET_KEY, and a published field encryption key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from apps.core.checks import production_secrets_check
from fitnesscrm.settings import insecure

GOOD_SECRET = "k" * 10 + "Zq9-Xw2_Lm4Pn7Rt1Vb8Yc3Hd6Jf0Gs5" + "aBcDeFgHiJkLmNoP"


def ids(**overrides: object) -> set[str]:
    values = {"DEBUG": False, "SECRET_KEY": GOOD_SECRET, "FIELD_ENCRYPTION_KEYS": []}
    values.update(overrides)
    with override_settings(**values):
        return {message.id for message in production_secrets_check()}


def test_a_sound_configuration_passes() -> None:
    assert ids(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]) == set()


def test_debug_on_is_an_error() -> None:
    assert ids(DEBUG=True) == {"core.E010"}


@pytest.mark.parametrize("secret", sorted(insecure.SECRET_KEYS))
def test_a_published_secret_key_is_an_error(secret: str) -> None:
    assert ids(SECRET_KEY=secret) == {"core.E011"}


@pytest.mark.parametrize("secret", ["short", "a" * 80, "django-insecure-" + "x1y2z3w4v5" * 6])
def test_a_weak_secret_key_is_an_error(secret: str) -> None:
    assert ids(SECRET_KEY=secret) == {"core.E012"}


@pytest.mark.parametrize("key", sorted(insecure.FIELD_KEYS))
def test_a_published_field_key_is_an_error(key: str) -> None:
    assert ids(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode(), key]) == {"core.E013"}


def test_check_deploy_fails_under_production_settings_with_the_development_key() -> None:
    """The real command, as a release step runs it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fitnesscrm.settings.production",
        "DJANGO_SECRET_KEY": insecure.DEVELOPMENT_SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": insecure.DEVELOPMENT_FIELD_KEY,
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1/x",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "core.E011" in result.stderr
    assert "core.E013" in result.stderr
