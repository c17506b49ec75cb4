"""Test run: real PostgreSQL (DATABASE_URL or the embedded server), fast hashing."""

import os
from pathlib import Path

from fitnesscrm.settings import dotenv, insecure

dotenv.load()
os.environ.setdefault("DJANGO_SECRET_KEY", insecure.TEST_SECRET_KEY)
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Tests only: a fixed, public Fernet key (rotation tests override the setting).
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", insecure.TEST_FIELD_KEY)
# With no DATABASE_URL the suite starts an embedded server of its own, apart from `make run`'s,
# and stops it when the run ends (tests/conftest.py).
_data_dir = os.environ.get("DATA_DIR") or str(Path(__file__).resolve().parents[2] / ".data")
os.environ.setdefault("EMBEDDED_DB_DIR", str(Path(_data_dir) / "pg-test"))

from .base import *  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["localhost", ".localhost", "testserver"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
MEDIA_ROOT = str(DATA_DIR / "test-media")
# Throttles and lockouts get their own tests; elsewhere they would only add noise.
AXES_ENABLED = True
# Tests that need a real worker start one (tests/core/test_celery.py); everything else runs
# tasks in-process so a test sees their effects.
CELERY_TASK_ALWAYS_EAGER = True
# No spare schemas while the test database is built; tests/tenants/test_spares.py fills some.
TENANT_SPARE_SCHEMAS = 0
