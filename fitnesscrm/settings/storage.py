"""File storage: per-gym folders on disk locally, S3 (django-storages) in production."""

from pathlib import Path

import environ

env = environ.Env()

_bucket = env.str("AWS_STORAGE_BUCKET_NAME", default="")

MEDIA_URL = "/media/"
# Uploads on disk when there is no bucket: under DATA_DIR, never inside the source tree.
MEDIA_ROOT = env.str(
    "MEDIA_ROOT",
    default=str(
        Path(env.str("DATA_DIR", default=str(Path(__file__).resolve().parents[2] / ".data")))
        / "media"
    ),
)
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"

if _bucket:
    AWS_STORAGE_BUCKET_NAME = _bucket
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default=None)
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    AWS_DEFAULT_ACL = "private"
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = 300
    _default_storage = "apps.core.storage.TenantS3Storage"
else:
    _default_storage = "django_tenants.files.storage.TenantFileSystemStorage"

STORAGES = {
    "default": {"BACKEND": _default_storage},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
