"""The gym's identity: logo, brand colour, contact details, currency, units and language, set in
one form by owners and managers and used by the stylesheet, logo and icon URLs, money on pages,
the manifest, the sign-in pages, emails and the admin. Gym A's identity never reaches gym B."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context
from PIL import Image

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.crm.models import Trainer
from apps.tenants.branding import brand_colour_clean, format_money
from apps.tenants.models import Gym
from tests.conftest import GymClient
from tests.crm.conftest import CrmGym

pytestmark = pytest.mark.django_db

IDENTITY = {
    "brand_colour": "#7b1fa2",
    "address": "1 High Street\nTown",
    "contact_email": "hello@alpha.example",
    "contact_phone": "+44 7700 900123",
    "currency": "GBP",
    "unit_system": "imperial",
    "language": "en",
}


def png(size: tuple[int, int] = (300, 100), colour: tuple[int, ...] = (0, 80, 160, 255)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(content: bytes, name: str = "logo.png", kind: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=kind)


def save_identity(browser: GymClient, **changes: object):  # type: ignore[no-untyped-def]
    return browser.post("/settings/identity/", {**IDENTITY, **changes})


def fresh(gym: Gym) -> Gym:
    return Gym.objects.get(pk=gym.pk)


class TestIdentityPage:
    def test_manager_saves_everything_in_one_form(self, crm_a: CrmGym, browser_as) -> None:
        browser = browser_as("manager")
        assert browser.get("/settings/identity/").status_code == 200
        response = save_identity(browser, logo=upload(png()))
        assert response.status_code == 302, response.context["form"].errors
        gym = fresh(crm_a.gym)
        assert gym.brand_colour == "#7b1fa2"
        assert gym.currency == "GBP"
        assert gym.unit_system == "imperial"
        assert gym.contact_phone == "+447700900123"
        assert gym.logo_name
        assert gym.icon_name
        with tenant_context(gym):
            actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {"gym.identity_updated", "gym.logo_changed"} <= actions

        # The page shows the logo; the logo and icon are PNGs of the right shape.
        page = browser.get("/settings/identity/").content.decode()
        assert f"/brand/logo.png?v={gym.brand_version}" in page
        logo = browser.get(f"/brand/logo.png?v={gym.brand_version}")
        assert logo.status_code == 200
        assert logo["Content-Type"] == "image/png"
        assert "immutable" in logo["Cache-Control"]
        assert Image.open(io.BytesIO(logo.content)).size == (300, 100)
        icon = browser.get("/brand/icon.png")
        assert Image.open(io.BytesIO(icon.content)).size == (512, 512)
        assert "immutable" not in icon["Cache-Control"]  # unversioned: short

        # Removing the logo.
        response = save_identity(browser, remove_logo="on")
        assert response.status_code == 302
        assert fresh(crm_a.gym).logo_name == ""
        assert browser.get("/brand/logo.png").status_code == 404

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"brand_colour": "red"}, "brand_colour"),
            ({"brand_colour": "#ffff00"}, "brand_colour"),  # white text unreadable on it
            ({"currency": "XYZ"}, "currency"),
            ({"currency": "DEM"}, "currency"),  # no longer legal tender
            ({"language": "it"}, "language"),
            ({"unit_system": "cubits"}, "unit_system"),
            ({"contact_email": "not-an-email"}, "contact_email"),
            ({"contact_phone": "12"}, "contact_phone"),
        ],
    )
    def test_bad_values_are_refused_on_their_field(
        self, crm_a: CrmGym, browser_as, changes: dict, field: str
    ) -> None:
        response = save_identity(browser_as("owner"), **changes)
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert fresh(crm_a.gym).brand_colour != "#7b1fa2"

    @pytest.mark.parametrize(
        ("content", "name"),
        [
            (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "l.svg"),
            (b"GIF89a not really", "l.gif"),
            (b"", "empty.png"),
            (b"\x89PNG\r\n\x1a\n" + b"0" * (3 * 1024 * 1024), "huge.png"),
        ],
    )
    def test_a_logo_that_is_not_a_small_image_is_refused(
        self, crm_a: CrmGym, browser_as, content: bytes, name: str
    ) -> None:
        response = save_identity(browser_as("owner"), logo=upload(content, name))
        assert response.status_code == 200
        assert "logo" in response.context["form"].errors
        gym = fresh(crm_a.gym)
        assert gym.logo_name == ""
        # Nothing else was saved either: one form, one save.
        assert gym.brand_colour != "#7b1fa2"

    @pytest.mark.parametrize("role", ["tina", "desk", "cara"])
    def test_only_management(self, crm_a: CrmGym, browser_as, role: str) -> None:
        browser = browser_as(role)
        assert browser.get("/settings/identity/").status_code in (302, 403, 404)
        save_identity(browser)
        assert fresh(crm_a.gym).brand_colour != "#7b1fa2"


class TestBrandFiles:
    def test_stylesheet_carries_the_colour_and_caches_by_version(
        self, crm_a: CrmGym, browser_as
    ) -> None:
        save_identity(browser_as("owner"))
        gym = fresh(crm_a.gym)
        anonymous = GymClient(gym.subdomain)
        response = anonymous.get(f"/brand/style.css?v={gym.brand_version}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/css")
        assert response.content.decode().strip() == ":root{--brand:#7b1fa2;--accent:#7b1fa2}"
        assert "max-age=31536000" in response["Cache-Control"]
        stale = anonymous.get("/brand/style.css?v=0")
        assert "max-age=300" in stale["Cache-Control"]
        # Pages link the versioned stylesheet and the gym's icon.
        page = anonymous.get("/accounts/login/").content.decode()
        assert f'href="/brand/style.css?v={gym.brand_version}"' in page
        assert "/brand/icon.png?v=" in page

    def test_gym_a_logo_and_colour_never_served_for_gym_b(
        self, crm_a: CrmGym, crm_b: CrmGym, browser_as
    ) -> None:
        save_identity(browser_as("owner"), logo=upload(png(colour=(255, 0, 0, 255))))
        gym_a = fresh(crm_a.gym)
        bravo = GymClient(crm_b.gym.subdomain)
        assert bravo.get("/brand/logo.png").status_code == 404
        assert bravo.get(f"/brand/logo.png?v={gym_a.brand_version}").status_code == 404
        css = bravo.get("/brand/style.css").content.decode()
        assert "#7b1fa2" not in css
        # Gym B's icon is the default one, not gym A's.
        alpha_icon = GymClient(gym_a.subdomain).get("/brand/icon.png").content
        assert bravo.get("/brand/icon.png").content != alpha_icon
        assert bravo.get("/favicon.ico").content != alpha_icon
        # Even with gym A's stored name on gym B's row, gym B's storage has no such file.
        Gym.objects.filter(pk=crm_b.gym.pk).update(logo_name=gym_a.logo_name)
        assert bravo.get("/brand/logo.png").status_code == 404
        # And gym B's manager cannot change gym A.
        save_identity(GymClient(crm_b.gym.subdomain), brand_colour="#123456")
        assert fresh(crm_a.gym).brand_colour == "#7b1fa2"


class TestIdentityIsUsed:
    def test_money_in_the_gyms_currency_and_the_readers_language(
        self, crm_a: CrmGym, browser_as
    ) -> None:
        with tenant_context(crm_a.gym):
            Trainer.objects.filter(pk=crm_a.tina.pk).update(hourly_rate=Decimal("45.50"))
        manager = browser_as("manager")
        page = manager.get(f"/trainers/{crm_a.tina.pk}/").content.decode()
        assert "€45.50" in page
        save_identity(browser_as("owner"), currency="GBP")
        page = manager.get(f"/trainers/{crm_a.tina.pk}/").content.decode()
        assert "£45.50" in page
        assert "EUR" not in page
        assert format_money(Decimal("45.5"), "EUR", "de") == "45,50\xa0€"
        assert format_money(Decimal("1234.5"), "USD", "fr") == "1\u202f234,50\xa0$US"

    def test_the_gyms_language_is_the_default_and_a_users_own_wins(
        self, crm_a: CrmGym, browser_as
    ) -> None:
        save_identity(browser_as("owner"), language="de")
        anonymous = GymClient(crm_a.gym.subdomain, HTTP_ACCEPT_LANGUAGE="fr")
        response = anonymous.get("/accounts/login/")
        assert response["Content-Language"] == "de"
        assert '<html lang="de">' in response.content.decode()
        with tenant_context(crm_a.gym):
            User.objects.filter(pk=crm_a.manager.pk).update(language="es")
        response = browser_as("manager").get("/settings/")
        assert response["Content-Language"] == "es"

    def test_new_accounts_start_in_the_gyms_units(self, crm_a: CrmGym, browser_as) -> None:
        save_identity(browser_as("owner"), unit_system="imperial")
        with tenant_context(fresh(crm_a.gym)):
            user = User.objects.create_user(email="units@alpha.example")
        assert user.unit_system == "imperial"

    def test_manifest_sign_in_and_admin_carry_the_identity(self, crm_a: CrmGym, browser_as) -> None:
        save_identity(browser_as("owner"), logo=upload(png()))
        gym = fresh(crm_a.gym)
        manifest = GymClient(gym.subdomain).get("/manifest.webmanifest").json()
        assert manifest["theme_color"] == "#7b1fa2"
        assert {icon["src"] for icon in manifest["icons"]} == {
            f"/brand/icon.png?v={gym.brand_version}"
        }
        assert {icon.get("purpose") for icon in manifest["icons"]} == {"any", "maskable"}

        login = GymClient(gym.subdomain).get("/accounts/login/").content.decode()
        assert 'data-testid="entrance-logo"' in login
        reset = GymClient(gym.subdomain).get("/accounts/password/reset/").content.decode()
        assert 'data-testid="entrance-logo"' in reset

        admin = GymClient(gym.subdomain).get("/admin/login/").content.decode()
        assert "Django administration" not in admin
        assert f">{gym.name}</a>" in admin or f"{gym.name}</a>" in admin
        assert f"| {gym.name}</title>" in admin

    def test_password_reset_email_carries_the_gym_name(self, crm_a: CrmGym, mailoutbox) -> None:
        GymClient(crm_a.gym.subdomain).post(
            "/accounts/password/reset/", {"email": crm_a.manager.email}
        )
        assert len(mailoutbox) == 1
        assert mailoutbox[0].subject.startswith(f"[{crm_a.gym.name}]")
        assert crm_a.gym.name in mailoutbox[0].body


def test_brand_colour_rules() -> None:
    assert brand_colour_clean("#0B6E4F") == "#0b6e4f"
    assert brand_colour_clean("#036") == "#003366"
    for bad in ("", "0b6e4f", "#0b6e4", "#gggggg", "#ffffff", "#ffeb3b"):
        with pytest.raises(Exception):  # noqa: B017, PT011
            brand_colour_clean(bad)
