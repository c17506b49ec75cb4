"""Messaging fixtures: the CRM's small business (tests/crm/conftest.py) in gyms A and B, a
media folder of the test's own, and an in-memory channel layer (tests/messaging/test_consumer.py
uses channels-redis itself)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.crm.conftest import CrmGym, api_as, build_crm_gym, crm_a, crm_b  # noqa: F401
from tests.progress.conftest import _forget_media_root


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> Iterator[None]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    _forget_media_root()
    yield
    _forget_media_root()


@pytest.fixture(autouse=True)
def _in_memory_layer(request, settings) -> None:  # type: ignore[no-untyped-def]
    """Services publish on commit; tests that do not listen need no Redis for it."""
    if "redis_layer" in request.fixturenames:
        return
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()


def jpeg_bytes(size: tuple[int, int] = (64, 48), *, exif: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (30, 120, 60))
    if exif is not None:
        image.save(buffer, format="JPEG", exif=exif)
    else:
        image.save(buffer, format="JPEG")
    return buffer.getvalue()


PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
