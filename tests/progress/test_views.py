"""The progress pages: the staff page of a client and the client's portal page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.progress import services
from apps.progress.models import BodyMeasurement, ProgressPhoto
from tests.crm.conftest import CrmGym
from tests.progress.conftest import jpeg_bytes


def page_of(client_pk: int) -> str:
    return f"/progress/clients/{client_pk}/"


def assert_csp_friendly(html: str) -> None:
    """No inline script or style: every <script> has a src or is JSON data."""
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "style=" not in html


def test_staff_page_follows_the_roles(crm_a: CrmGym, client_a):
    for role, pk, expected in [
        ("owner", crm_a.ann.pk, 200),
        ("manager", crm_a.cara.pk, 200),
        ("tina", crm_a.ann.pk, 200),
        ("tina", crm_a.cara.pk, 404),
        ("tom", crm_a.ann.pk, 404),
        ("desk", crm_a.ann.pk, 403),
        ("cara", crm_a.cara.pk, 403),
    ]:
        client_a.force_login(crm_a.user(role))
        assert client_a.get(page_of(pk)).status_code == expected, (role, pk)


def test_staff_page_shows_charts_from_json(crm_a: CrmGym, client_a):
    with tenant_context(crm_a.gym):
        for day, weight in [(1, 80), (8, 79)]:
            services.measurement_create(
                actor=crm_a.owner,
                client=crm_a.ann,
                weight_kg=weight,
                waist_cm=90,
                measured_at=datetime(2026, 1, day, 7, 0, tzinfo=UTC),
            )
    connection.set_schema_to_public()
    client_a.force_login(crm_a.tina.user)
    response = client_a.get(page_of(crm_a.ann.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "vendor/chartjs/chart.umd.min" in html
    assert "progress/charts" in html
    data = json.loads(
        re.search(
            r'<script id="progress-chart-data" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert data["labels"] == ["2026-01-01", "2026-01-08"]
    assert data["charts"]["weight"]["series"][0]["values"] == [80.0, 79.0]
    assert 'data-chart="circumferences"' in html
    assert_csp_friendly(html)


def test_staff_record_a_measurement_in_their_units(crm_a: CrmGym, client_a):
    with tenant_context(crm_a.gym):
        type(crm_a.owner).objects.filter(pk=crm_a.owner.pk).update(unit_system="imperial")
    connection.set_schema_to_public()
    client_a.force_login(crm_a.owner)
    response = client_a.post(
        f"/progress/clients/{crm_a.ann.pk}/measurements/add/",
        {"measured_at": "2026-01-05T08:00", "weight": "150", "arm": "12"},
    )
    assert response.status_code == 302
    with tenant_context(crm_a.gym):
        stored = BodyMeasurement.objects.get()
        assert (stored.weight_kg, stored.arm_cm) == (Decimal("68.039"), Decimal("30.48"))
    connection.set_schema_to_public()
    bad = client_a.post(
        f"/progress/clients/{crm_a.ann.pk}/measurements/add/",
        {"measured_at": "2026-01-05T08:00", "weight": "5"},
    )
    assert bad.status_code == 400
    assert "has-error" in bad.content.decode()


def test_portal_page_is_in_the_nav_and_takes_measurements_units_and_photos(crm_a: CrmGym, client_a):
    client_a.force_login(crm_a.cara_user)
    response = client_a.get("/portal/progress/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/portal/progress/"' in html
    assert 'aria-current="page"' in html
    assert_csp_friendly(html)

    assert client_a.post("/portal/progress/units/", {"unit_system": "imperial"}).status_code == 302
    response = client_a.post(
        "/portal/progress/measurements/add/",
        {"measured_at": "2026-01-05T08:00", "weight": "220.46", "waist": "30"},
    )
    assert response.status_code == 302
    response = client_a.post(
        "/portal/progress/photos/add/",
        {
            "image": SimpleUploadedFile("me.jpg", jpeg_bytes()),
            "pose": "front",
            "taken_on": "2026-01-05",
        },
    )
    assert response.status_code == 302
    refused = client_a.post(
        "/portal/progress/photos/add/",
        {
            "image": SimpleUploadedFile("me.jpg", b"<?php echo 1; ?>"),
            "pose": "front",
            "taken_on": "2026-01-05",
        },
    )
    assert refused.status_code == 400
    with tenant_context(crm_a.gym):
        measurement = BodyMeasurement.objects.get()
        assert measurement.client_id == crm_a.cara.pk
        assert measurement.weight_kg == Decimal("99.999")
        assert measurement.waist_cm == Decimal("76.20")
        assert ProgressPhoto.objects.filter(client=crm_a.cara).count() == 1
    connection.set_schema_to_public()
    html = client_a.get("/portal/progress/").content.decode()
    assert "220.46" in html
    assert "(lb)" in html


def test_staff_cannot_use_the_portal_page(crm_a: CrmGym, client_a):
    client_a.force_login(crm_a.owner)
    assert client_a.get("/portal/progress/").status_code == 403


def test_compare_two_photos(crm_a: CrmGym, client_a):
    import io

    with tenant_context(crm_a.gym):
        first, second = (
            services.photo_upload(
                actor=crm_a.owner,
                client=crm_a.cara,
                pose="front",
                taken_on=timezone.localdate() - timedelta(days=days),
                image=io.BytesIO(jpeg_bytes()),
            )
            for days in (30, 0)
        )
    connection.set_schema_to_public()
    client_a.force_login(crm_a.tom.user)
    response = client_a.get(
        f"/progress/clients/{crm_a.cara.pk}/compare/", {"left": first.pk, "right": second.pk}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f"/progress/photos/{first.pk}/file/" in html
    assert f"/progress/photos/{second.pk}/file/" in html
    # A photo that is not this client's is not a choice.
    assert (
        client_a.get(
            f"/progress/clients/{crm_a.cara.pk}/compare/", {"left": 999999, "right": second.pk}
        ).status_code
        == 400
    )
    client_a.force_login(crm_a.cara_user)
    assert client_a.get("/portal/progress/compare/").status_code == 200


def test_staff_page_has_a_constant_query_count(crm_a: CrmGym, client_a):
    import io

    client_a.force_login(crm_a.owner)

    def count() -> int:
        with CaptureQueriesContext(db) as queries:
            assert client_a.get(page_of(crm_a.cara.pk)).status_code == 200
        return len(queries)

    with tenant_context(crm_a.gym):
        services.measurement_create(actor=crm_a.owner, client=crm_a.cara, weight_kg=60)
        services.photo_upload(
            actor=crm_a.owner, client=crm_a.cara, pose="side", image=io.BytesIO(jpeg_bytes())
        )
    connection.set_schema_to_public()
    few = count()
    with tenant_context(crm_a.gym):
        for _ in range(5):
            services.measurement_create(actor=crm_a.owner, client=crm_a.cara, weight_kg=61)
            services.photo_upload(
                actor=crm_a.owner, client=crm_a.cara, pose="back", image=io.BytesIO(jpeg_bytes())
            )
    connection.set_schema_to_public()
    assert count() == few


def test_staff_choose_their_units_on_the_page(crm_a: CrmGym, client_a):
    client_a.force_login(crm_a.tom.user)
    response = client_a.post(
        f"/progress/clients/{crm_a.cara.pk}/units/", {"unit_system": "imperial"}
    )
    assert response.status_code == 302
    assert response["Location"] == page_of(crm_a.cara.pk)
    with tenant_context(crm_a.gym):
        crm_a.tom.user.refresh_from_db()
        assert crm_a.tom.user.unit_system == "imperial"
    connection.set_schema_to_public()
    html = client_a.get(page_of(crm_a.cara.pk)).content.decode()
    assert "Weight (lb)" in html
