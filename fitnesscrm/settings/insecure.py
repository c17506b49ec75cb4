"""Secrets published in this repository for development and tests. Production refuses them
(apps/core/checks.py), so a deploy that forgot to set its own never starts with these."""

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105 - published on purpose
TEST_SECRET_KEY = "test-only-insecure-key"  # noqa: S105 - published on purpose
# Fernet keys: base64 of 32 bytes that say what they are.
DEVELOPMENT_FIELD_KEY = "ZGV2LW9ubHktaW5zZWN1cmUtZmVybmV0LWtleS0zMmI="
TEST_FIELD_KEY = "dGVzdC1vbmx5LWluc2VjdXJlLWZlcm5ldC1rZXktMzI="

SECRET_KEYS = frozenset({DEVELOPMENT_SECRET_KEY, TEST_SECRET_KEY})
FIELD_KEYS = frozenset({DEVELOPMENT_FIELD_KEY, TEST_FIELD_KEY})
