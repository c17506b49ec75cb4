"""S3 storage with one prefix per gym, so one gym's files can never be addressed from another."""

from __future__ import annotations

from django.db import connection
from storages.backends.s3 import S3Storage


class TenantS3Storage(S3Storage):
    """Private S3 objects under `<schema>/`; URLs are short-lived signed links."""

    default_acl = "private"
    querystring_auth = True

    @property  # type: ignore[override]
    def location(self) -> str:
        return connection.schema_name

    @location.setter
    def location(self, value: str) -> None:
        # S3Storage assigns the configured location on init; the schema always wins.
        pass
