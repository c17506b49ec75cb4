"""Development on a laptop: debug on, emails to the console, a fixed dev secret."""

import os

from fitnesscrm.settings import dotenv, insecure

dotenv.load()
os.environ.setdefault("DJANGO_SECRET_KEY", insecure.DEVELOPMENT_SECRET_KEY)
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
os.environ.setdefault("DJANGO_DEBUG", "true")
# Development only: a fixed, public Fernet key so encrypted fields work with no setup.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", insecure.DEVELOPMENT_FIELD_KEY)
os.environ.setdefault("PUBLIC_PORT", "8000")

from .base import *  # noqa: E402

WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
