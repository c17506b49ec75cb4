"""Progress photos: accepted by content, re-encoded without EXIF, stored per gym under random
names, served only to the people allowed to see them, and deleted with their row."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.crm import services as crm_services
from apps.progress import services
from apps.progress.models import ProgressPhoto
from tests.conftest import make_user
from tests.crm.conftest import CrmGym
from tests.progress.conftest import jpeg_bytes, png_bytes

PHOTOS = "/api/v1/progress/photos/"


def upload(api: APIClient, content: bytes, name: str = "me.jpg", **extra: object):  # type: ignore[no-untyped-def]
    data = {"image": SimpleUploadedFile(name, content), "pose": "front", **extra}
    return api.post(PHOTOS, data, format="multipart")


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.0)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.0)
    return exif.tobytes()


def stored_path(photo: ProgressPhoto, name: str) -> Path:
    from django.core.files.storage import default_storage

    return Path(default_storage.path(name))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims `width` x `height` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# --- Accepted, cleaned, stored ---------------------------------------------------------------


def test_exif_and_gps_are_stripped_and_a_thumbnail_made(crm_a: CrmGym, api_as):
    original = jpeg_bytes((640, 480), exif=gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload has GPS

    response = upload(api_as("cara"), original, taken_on="2026-01-10")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["pose"] == "front"
    assert body["taken_on"] == "2026-01-10"
    assert body["file_url"].endswith(f"/api/v1/progress/photos/{body['id']}/file/")
    with tenant_context(crm_a.gym):
        photo = ProgressPhoto.objects.get(pk=body["id"])
        full, thumb = stored_path(photo, photo.file_name), stored_path(photo, photo.thumbnail_name)
    # Under the gym's own folder, under a random name that says nothing about the person.
    assert f"/{crm_a.gym.schema_name}/progress/" in str(full)
    assert "cara" not in full.name
    assert "me" not in full.stem
    assert len(full.stem) >= 20
    stored = Image.open(full)
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info
    assert stored.size == (640, 480)
    thumbnail = Image.open(thumb)
    assert max(thumbnail.size) <= 400
    assert thumbnail.size[0] > thumbnail.size[1]
    assert dict(thumbnail.getexif()) == {}

    served = api_as("cara").get(body["file_url"])
    assert served.status_code == 200
    served_bytes = b"".join(served.streaming_content)
    assert dict(Image.open(io.BytesIO(served_bytes)).getexif()) == {}
    assert served["Cache-Control"].startswith("private")


def test_orientation_is_applied_before_exif_goes(crm_a: CrmGym, api_as):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    response = upload(api_as("cara"), jpeg_bytes((64, 48), exif=exif.tobytes()))
    assert response.status_code == 201
    assert (response.json()["width"], response.json()["height"]) == (48, 64)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("me.png", png_bytes()),
        ("photo.bin", png_bytes()),  # a name that says nothing: the content decides
        ("me.webp", None),
    ],
)
def test_png_and_webp_are_accepted(crm_a: CrmGym, api_as, name, content):
    if content is None:
        buffer = io.BytesIO()
        Image.new("RGB", (30, 20), (0, 128, 0)).save(buffer, format="WEBP")
        content = buffer.getvalue()
    response = upload(api_as("cara"), content, name=name)
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == "image/jpeg"


def test_heic_is_accepted(crm_a: CrmGym, api_as):
    pillow_heif = pytest.importorskip("pillow_heif")
    buffer = io.BytesIO()
    try:
        pillow_heif.from_pillow(Image.new("RGB", (40, 30), (10, 20, 30))).save(buffer, quality=80)
    except Exception:  # pragma: no cover - a libheif built without an encoder
        pytest.skip("this libheif cannot encode HEIC")
    response = upload(api_as("cara"), buffer.getvalue(), name="IMG_0001.HEIC")
    assert response.status_code == 201, response.json()
    assert (response.json()["width"], response.json()["height"]) == (40, 30)


# --- Refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("shell.jpg", b"<?php system($_GET['c']); ?>"),
        ("notes.txt", b"Just some text, not a picture at all.\n" * 10),
        ("fake.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100),  # a JPEG signature, then nothing
        ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),  # an image, not one we take
    ],
)
def test_files_that_are_not_accepted_photos_are_refused(crm_a: CrmGym, api_as, name, content):
    response = upload(api_as("cara"), content, name=name)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "image" in response.json()["errors"]
    with tenant_context(crm_a.gym):
        assert ProgressPhoto.objects.count() == 0


def test_an_oversized_file_is_refused(crm_a: CrmGym, api_as, settings):
    settings.PROGRESS_PHOTO_MAX_BYTES = 2_000
    response = upload(api_as("cara"), jpeg_bytes((400, 400)))
    assert response.status_code == 400
    assert "too large" in response.json()["errors"]["image"][0]


def test_a_decompression_bomb_is_refused(crm_a: CrmGym, api_as):
    # A few hundred bytes that declare 100 000 x 100 000 pixels (10 gigapixels).
    bomb = png_declaring(100_000, 100_000)
    assert len(bomb) < 500
    response = upload(api_as("cara"), bomb, name="bomb.png")
    assert response.status_code == 400
    assert "too many pixels" in response.json()["errors"]["image"][0]


def test_the_pixel_limit_is_a_setting(crm_a: CrmGym, api_as, settings):
    settings.PROGRESS_PHOTO_MAX_PIXELS = 1_000
    response = upload(api_as("cara"), jpeg_bytes((64, 48)))
    assert response.status_code == 400
    assert "too many pixels" in response.json()["errors"]["image"][0]


# --- Who sees a photo ------------------------------------------------------------------------


@pytest.fixture
def caras_photo(crm_a: CrmGym) -> ProgressPhoto:
    with tenant_context(crm_a.gym):
        photo = services.photo_upload(
            actor=crm_a.cara_user,
            client=crm_a.cara,
            pose="side",
            image=io.BytesIO(jpeg_bytes()),
        )
    connection.set_schema_to_public()
    return photo


@pytest.mark.parametrize(
    ("who", "expected"),
    [("cara", 200), ("tom", 200), ("owner", 200), ("manager", 200), ("tina", 404)],
)
def test_the_file_reaches_only_the_client_their_trainers_and_management(
    crm_a: CrmGym, caras_photo, api_as, client_a, who, expected
):
    api = api_as(who)
    assert api.get(f"{PHOTOS}{caras_photo.pk}/file/").status_code == expected
    assert api.get(f"{PHOTOS}{caras_photo.pk}/file/?size=thumb").status_code == expected
    assert api.get(f"{PHOTOS}{caras_photo.pk}/").status_code == expected
    # The web view (an <img> on the pages) follows the same rule.
    client_a.force_login(crm_a.user(who))
    assert client_a.get(f"/progress/photos/{caras_photo.pk}/file/").status_code == expected


def test_front_desk_and_other_clients_get_nothing(crm_a: CrmGym, caras_photo, api_as, client_a):
    assert api_as("desk").get(f"{PHOTOS}{caras_photo.pk}/file/").status_code == 403
    client_a.force_login(crm_a.desk)
    assert client_a.get(f"/progress/photos/{caras_photo.pk}/file/").status_code == 404

    with tenant_context(crm_a.gym):
        dan = make_user(Role.CLIENT, "dan@alpha.example", first_name="Dan")
        crm_services.profile_ensure_for_role(user=dan)
    connection.set_schema_to_public()
    api = APIClient(HTTP_HOST=crm_a.host)
    api.force_authenticate(dan)
    assert api.get(f"{PHOTOS}{caras_photo.pk}/file/").status_code == 404
    assert api.get(PHOTOS).json()["results"] == []
    client_a.force_login(dan)
    assert client_a.get(f"/progress/photos/{caras_photo.pk}/file/").status_code == 404


def test_gym_b_cannot_fetch_gym_a_photo(crm_a: CrmGym, crm_b: CrmGym, caras_photo, client_b):
    api = APIClient(HTTP_HOST=crm_b.host)
    api.force_authenticate(crm_b.owner)
    assert api.get(f"{PHOTOS}{caras_photo.pk}/file/").status_code == 404
    assert api.get(f"{PHOTOS}{caras_photo.pk}/").status_code == 404
    assert api.get(PHOTOS).json()["results"] == []
    client_b.force_login(crm_b.owner)
    assert client_b.get(f"/progress/photos/{caras_photo.pk}/file/").status_code == 404


def test_photos_are_never_under_a_public_media_url(crm_a: CrmGym, caras_photo, client_a, api_as):
    body = api_as("cara").get(f"{PHOTOS}{caras_photo.pk}/").json()
    assert "/media/" not in str(body)
    assert client_a.get(f"/media/{caras_photo.file_name}").status_code == 404


# --- Files go with the row -------------------------------------------------------------------


def _files_of(crm: CrmGym, photo: ProgressPhoto) -> list[Path]:
    with tenant_context(crm.gym):
        return [stored_path(photo, photo.file_name), stored_path(photo, photo.thumbnail_name)]


def test_deleting_a_photo_deletes_its_files(
    crm_a: CrmGym, caras_photo, api_as, django_capture_on_commit_callbacks
):
    files = _files_of(crm_a, caras_photo)
    assert all(path.exists() for path in files)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as("cara").delete(f"{PHOTOS}{caras_photo.pk}/")
    assert response.status_code == 204
    assert not any(path.exists() for path in files)


def test_deleting_the_client_deletes_their_files(crm_a: CrmGym, django_capture_on_commit_callbacks):
    with tenant_context(crm_a.gym):
        photo = services.photo_upload(
            actor=crm_a.owner, client=crm_a.bob, pose="back", image=io.BytesIO(jpeg_bytes())
        )
        files = [stored_path(photo, photo.file_name), stored_path(photo, photo.thumbnail_name)]
        assert all(path.exists() for path in files)
        with django_capture_on_commit_callbacks(execute=True):
            crm_services.client_delete(actor=crm_a.owner, client=crm_a.bob)
        assert not ProgressPhoto.objects.exists()
    assert not any(path.exists() for path in files)


def test_a_rolled_back_delete_keeps_the_files(crm_a: CrmGym, caras_photo):
    from django.db import transaction

    files = _files_of(crm_a, caras_photo)
    with tenant_context(crm_a.gym):
        try:
            with transaction.atomic():
                ProgressPhoto.objects.filter(pk=caras_photo.pk).delete()
                raise RuntimeError("change of mind")
        except RuntimeError:
            pass
        assert ProgressPhoto.objects.filter(pk=caras_photo.pk).exists()
    assert all(path.exists() for path in files)


# --- Lists -----------------------------------------------------------------------------------


def test_photo_list_has_a_constant_query_count(crm_a: CrmGym, api_as):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    with tenant_context(crm_a.gym):
        for _ in range(6):
            services.photo_upload(
                actor=crm_a.owner, client=crm_a.cara, pose="front", image=io.BytesIO(jpeg_bytes())
            )
    connection.set_schema_to_public()
    api = api_as("tom")
    counts = []
    for size in (2, 6):
        with CaptureQueriesContext(db) as queries:
            response = api.get(PHOTOS, {"page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_photo_files_for_the_data_export(crm_a: CrmGym, caras_photo):
    from apps.privacy.services import personal_data_export
    from apps.progress.selectors import photo_export_files

    with tenant_context(crm_a.gym):
        files = list(photo_export_files(user=crm_a.cara_user))
        assert [name for name, _content in files] == [
            f"progress_photos/{caras_photo.taken_on:%Y-%m-%d}_side_{caras_photo.pk}.jpg"
        ]
        assert Image.open(io.BytesIO(files[0][1])).format == "JPEG"
        assert list(photo_export_files(user=crm_a.owner)) == []
        # The person's data export (apps.privacy) carries the image next to the rows.
        archive = zipfile.ZipFile(io.BytesIO(personal_data_export(user=crm_a.cara_user)))
        assert archive.read(f"files/{files[0][0]}") == files[0][1]


def test_staff_upload_on_the_web_page(crm_a: CrmGym, client_a):
    client_a.force_login(crm_a.tina.user)
    response = client_a.post(
        f"/progress/clients/{crm_a.ann.pk}/photos/add/",
        {
            "image": SimpleUploadedFile("ann.png", png_bytes()),
            "pose": "back",
            "taken_on": "2026-02-01",
        },
    )
    assert response.status_code == 302
    # Not Tina's client: as if it did not exist.
    response = client_a.post(
        f"/progress/clients/{crm_a.cara.pk}/photos/add/",
        {"image": SimpleUploadedFile("c.png", png_bytes()), "pose": "back"},
    )
    assert response.status_code == 404
    with tenant_context(crm_a.gym):
        assert list(ProgressPhoto.objects.values_list("client_id", "pose")) == [
            (crm_a.ann.pk, "back")
        ]


def test_staff_need_the_clients_photo_consent_but_the_client_does_not(crm_a: CrmGym):
    from apps.crm.models import ConsentKind
    from apps.crm.services import consent_record

    with tenant_context(crm_a.gym):
        # Cara withdraws her consent (the latest word counts).
        consent_record(
            actor=crm_a.cara_user, client=crm_a.cara, kind=ConsentKind.PHOTOS, granted=False
        )
        with pytest.raises(ValidationError) as refused:
            services.photo_upload(
                actor=crm_a.manager,
                client=crm_a.cara,
                pose="front",
                image=io.BytesIO(jpeg_bytes()),
            )
        assert "agreed to progress photos" in refused.value.message_dict["client"][0]
        assert not ProgressPhoto.objects.filter(client=crm_a.cara).exists()
        # Her own upload is her consent.
        own = services.photo_upload(
            actor=crm_a.cara_user, client=crm_a.cara, pose="front", image=io.BytesIO(jpeg_bytes())
        )
        assert own.client_id == crm_a.cara.pk


def test_the_public_host_serves_no_media_even_in_development(settings, caras_photo) -> None:
    """Development settings (DEBUG on) once served MEDIA_ROOT, every gym's files, on the public
    host without a login."""
    import importlib

    from django.urls import Resolver404, resolve

    import fitnesscrm.urls_public

    settings.DEBUG = True
    try:
        urls = importlib.reload(fitnesscrm.urls_public)
        with pytest.raises(Resolver404):
            resolve(f"/media/{caras_photo.file_name}", urlconf=urls)
    finally:
        settings.DEBUG = False
        importlib.reload(fitnesscrm.urls_public)
