"""Progress fixtures: the CRM's small business (tests/crm/conftest.py) in gyms A and B, and
photo files kept in a temporary media folder so tests can look at (and lose) them."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image

from tests.crm.conftest import CrmGym, api_as, build_crm_gym, crm_a, crm_b  # noqa: F401


def _forget_media_root() -> None:
    # TenantFileSystemStorage caches its root and (django-tenants' bug) does not drop it when
    # MEDIA_ROOT changes.
    from django.core.files.storage import default_storage

    default_storage.exists("x")  # make the lazy storage real
    default_storage._wrapped.__dict__.pop("relative_media_root", None)


@pytest.fixture(autouse=True)
def _clients_agreed_to_photos(request) -> None:  # type: ignore[no-untyped-def]
    """Staff upload a client's photos only with the client's consent: here every client of
    gym A has given it (tests of that rule withdraw it)."""
    if "crm_a" not in request.fixturenames:
        return
    from apps.crm.models import Client, Consent, ConsentKind

    crm = request.getfixturevalue("crm_a")
    with tenant_context(crm.gym):
        Consent.objects.bulk_create(
            Consent(client=client, kind=ConsentKind.PHOTOS, granted=True)
            for client in Client.objects.all()
        )
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> Iterator[None]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    _forget_media_root()
    yield
    _forget_media_root()


def jpeg_bytes(size: tuple[int, int] = (64, 48), *, exif: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    if exif is not None:
        image.save(buffer, format="JPEG", exif=exif)
    else:
        image.save(buffer, format="JPEG")
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (32, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 255, 128)).save(buffer, format="PNG")
    return buffer.getvalue()
