"""Rough edges a new user ran into, each with the check that would have caught it: links in
emails keep the host and port the sender used, a new trainer is emailed a way in, the kiosk
tells a client who is already checked in so, /favicon.ico exists, and the Permissions-Policy
names only features Chromium knows."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.scheduling.models import ClassBooking
from tests.conftest import ALPHA, PASSWORD, GymClient
from tests.crm.conftest import CrmGym
from tests.scheduling.test_policies import make_appointment, make_class

pytestmark = pytest.mark.django_db

# Chromium's permissions_policy_features.json5, as shipped on Linux desktop: anything else in
# the header makes Chromium log "Unrecognized feature" on every page. web-share is missing on
# purpose: Linux builds do not know it.
CHROMIUM_FEATURES = frozenset(
    [
        "accelerometer",
        "ambient-light-sensor",
        "attribution-reporting",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "clipboard-read",
        "clipboard-write",
        "compute-pressure",
        "cross-origin-isolated",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "identity-credentials-get",
        "idle-detection",
        "join-ad-interest-group",
        "keyboard-map",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "otp-credentials",
        "payment",
        "picture-in-picture",
        "private-aggregation",
        "private-state-token-issuance",
        "private-state-token-redemption",
        "publickey-credentials-create",
        "publickey-credentials-get",
        "run-ad-auction",
        "screen-wake-lock",
        "serial",
        "shared-storage",
        "shared-storage-select-url",
        "storage-access",
        "sync-xhr",
        "unload",
        "usb",
        "window-management",
        "xr-spatial-tracking",
    ]
)


def parse_permissions_policy(header: str) -> dict[str, str]:
    policy = {}
    for member in header.split(","):
        name, _, allowlist = member.strip().partition("=")
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), member
        assert re.fullmatch(r"\((?:self|\*|\"[^\"]+\"| )*\)", allowlist), member
        policy[name] = allowlist
    return policy


class TestPermissionsPolicy:
    def test_only_features_chromium_knows(self, client_a: Client) -> None:
        for response in (client_a.get("/accounts/login/"), client_a.get("/no-such-page/")):
            policy = parse_permissions_policy(response["Permissions-Policy"])
            assert set(policy) <= CHROMIUM_FEATURES, set(policy) - CHROMIUM_FEATURES
            assert policy["camera"] == "()"
            assert policy["publickey-credentials-get"] == "(self)"


class TestFavicon:
    def test_a_gym_host_and_the_public_host_serve_one(
        self, client_a: Client, public_client: Client
    ) -> None:
        for client in (client_a, public_client):
            response = client.get("/favicon.ico")
            assert response.status_code == 200
            assert response["Content-Type"] == "image/png"
            assert (
                b"".join(response.streaming_content if response.streaming else [response.content])[
                    :8
                ]
                == b"\x89PNG\r\n\x1a\n"
            )
            assert "max-age" in response["Cache-Control"]


# A development server on a port of its own, not the configured public one.
PORT = "8123"
LINK = re.compile(r"(?P<origin>https?://[^/\s]+)(?P<path>/accounts/[^\s]+)")


class TestEmailLinks:
    def test_invitation_link_keeps_the_port_the_inviter_used(
        self, gym_a, owner_a, django_capture_on_commit_callbacks
    ) -> None:
        client = GymClient(ALPHA.subdomain)
        client.defaults["HTTP_HOST"] = f"{ALPHA.host}:{PORT}"
        client.force_login(owner_a)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/accounts/invitations/",
                {"email": "port@alpha.example", "role": "trainer"},
                SERVER_PORT=PORT,
            )
        assert response.status_code == 302
        assert len(mail.outbox) == 1
        match = LINK.search(mail.outbox[0].body)
        assert match, mail.outbox[0].body
        assert match["origin"] == f"http://{ALPHA.host}:{PORT}"
        # The link works on that host.
        newcomer = Client(HTTP_HOST=f"{ALPHA.host}:{PORT}")
        assert newcomer.get(match["path"], SERVER_PORT=PORT).status_code == 200

    def test_a_new_trainer_is_emailed_a_link_to_choose_a_password(
        self, gym_a, owner_a, django_capture_on_commit_callbacks
    ) -> None:
        client = GymClient(ALPHA.subdomain)
        client.defaults["HTTP_HOST"] = f"{ALPHA.host}:{PORT}"
        client.force_login(owner_a)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/trainers/new/",
                {
                    "email": "fresh.trainer@alpha.example",
                    "first_name": "Fay",
                    "last_name": "F",
                    "calendar_colour": "#3366cc",
                },
                SERVER_PORT=PORT,
            )
        assert response.status_code == 302, response.content.decode()[:2000]
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["fresh.trainer@alpha.example"]
        assert "Alpha Fitness" in message.subject
        match = LINK.search(message.body)
        assert match, message.body
        assert match["origin"] == f"http://{ALPHA.host}:{PORT}"
        # The link lets them choose a password and sign in.
        newcomer = Client(HTTP_HOST=f"{ALPHA.host}:{PORT}")
        page = newcomer.get(match["path"], follow=True, SERVER_PORT=PORT)
        assert page.status_code == 200
        form_path = page.redirect_chain[-1][0] if page.redirect_chain else match["path"]
        response = newcomer.post(
            form_path, {"password1": PASSWORD, "password2": PASSWORD}, SERVER_PORT=PORT
        )
        assert response.status_code == 302
        with tenant_context(gym_a):
            user = User.objects.get(email="fresh.trainer@alpha.example")
            assert user.role == Role.TRAINER
            assert user.check_password(PASSWORD)

    def test_an_existing_staff_member_made_trainer_gets_no_email(
        self, gym_a, owner_a, django_capture_on_commit_callbacks
    ) -> None:
        from apps.crm import services

        with tenant_context(gym_a):
            from tests.conftest import make_user

            make_user(Role.TRAINER, "known@alpha.example")
            with django_capture_on_commit_callbacks(execute=True):
                services.trainer_create(actor=owner_a, email="known@alpha.example")
        assert mail.outbox == []


class TestKiosk:
    def test_a_client_already_checked_in_is_told_so(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_hours=0.5, name="Kiosk spin")
            booking = ClassBooking.objects.create(occurrence=occurrence, client=crm_a.ann)
        kiosk = GymClient(crm_a.gym.subdomain)
        kiosk.force_login(crm_a.desk)
        first = kiosk.post("/schedule/kiosk/", {"identifier": "ann@alpha.example"})
        assert 'data-testid="kiosk-ok"' in first.content.decode()
        assert 'data-testid="kiosk-already"' not in first.content.decode()
        again = kiosk.post("/schedule/kiosk/", {"identifier": "ann@alpha.example"})
        html = again.content.decode()
        assert 'data-testid="kiosk-miss"' not in html
        assert 'data-testid="kiosk-already"' in html
        assert "already checked in" in html
        assert "Kiosk spin" in html
        with tenant_context(crm_a.gym):
            booking.refresh_from_db()
            assert booking.checked_in_at is not None

    def test_a_session_already_checked_in_too(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            make_appointment(crm_a, crm_a.ann, in_hours=0.25)
        kiosk = GymClient(crm_a.gym.subdomain)
        kiosk.force_login(crm_a.desk)
        kiosk.post("/schedule/kiosk/", {"identifier": "ann@alpha.example"})
        html = kiosk.post("/schedule/kiosk/", {"identifier": "ann@alpha.example"}).content.decode()
        assert 'data-testid="kiosk-already"' in html

    def test_the_kiosk_wears_the_gyms_brand(self, crm_a: CrmGym) -> None:
        from apps.tenants.models import Gym

        Gym.objects.filter(pk=crm_a.gym.pk).update(logo_name="brand/x-logo.png", brand_version=4)
        kiosk = GymClient(crm_a.gym.subdomain)
        kiosk.force_login(crm_a.desk)
        html = kiosk.get("/schedule/kiosk/").content.decode()
        assert 'href="/brand/style.css?v=4"' in html
        assert 'data-testid="kiosk-logo"' in html

    def test_someone_else_is_still_not_found(self, crm_a: CrmGym) -> None:
        kiosk = GymClient(crm_a.gym.subdomain)
        kiosk.force_login(crm_a.desk)
        html = kiosk.post("/schedule/kiosk/", {"identifier": "ann@alpha.example"}).content.decode()
        assert 'data-testid="kiosk-miss"' in html


class TestApiDocsPolicy:
    def test_the_api_docs_need_no_unsafe_inline(self, client_a: Client, owner_a) -> None:
        client_a.force_login(owner_a)
        response = client_a.get("/api/v1/docs/")
        assert response.status_code == 200
        policy = {
            name: values
            for name, *values in (
                part.split() for part in response["Content-Security-Policy"].split(";")
            )
        }
        assert "'unsafe-inline'" not in policy["style-src"]
        assert any(value.startswith("'nonce-") for value in policy["style-src"])
        html = response.content.decode()
        # The bundle is the vendored one, whose badge image is not on a CDN.
        assert "/static/vendor/redoc/redoc.standalone.js" in html
        assert "cdn." not in html
