"""A trainer (desktop) and their client (phone), in two browser contexts, exchange messages in
real time over /ws/messages/, and the unread count in each navigation moves as they do.

The pages and the sockets are served by the ASGI application (fitnesscrm.asgi) under uvicorn
in a thread, as `make run` serves both; the channel layer is channels-redis."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.crm import services as crm
from apps.crm.models import Assignment, Client, Trainer
from apps.tenants.models import Gym
from tests.conftest import BROWSER, PASSWORD, make_user

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
SCREENSHOTS = Path(os.environ.get("FITNESSCRM_SCREENSHOTS") or tempfile.gettempdir())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def asgi_server_port(django_db_setup, django_db_blocker) -> Iterator[int]:
    """Pages and WebSockets from one ASGI server (uvicorn) on loopback, for one test."""
    import uvicorn
    from channels.routing import ProtocolTypeRouter
    from django.conf import settings
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application

    from fitnesscrm.asgi import application

    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL): the sockets meet through channels-redis")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    app = ProtocolTypeRouter(
        {
            "http": ASGIStaticFilesHandler(get_asgi_application()),
            "websocket": application.application_mapping["websocket"],
        }
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    with django_db_blocker.unblock():
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        try:
            yield port
        finally:
            server.should_exit = True
            thread.join(10)


def _people(gym: Gym, tag: str) -> tuple[str, str]:
    trainer_email = f"coach-{tag}@charlie.example"
    client_email = f"pia-{tag}@charlie.example"
    with tenant_context(gym), transaction.atomic():
        owner = User.objects.get(email=BROWSER.owner_email)
        coach = make_user(Role.TRAINER, trainer_email, first_name="Theo", last_name="Coach")
        crm.profile_ensure_for_role(user=coach)
        pia = make_user(Role.CLIENT, client_email, first_name="Pia", last_name=f"Portal{tag}")
        crm.profile_ensure_for_role(user=pia)
        crm.assignment_create(
            actor=owner,
            client=Client.objects.get(user=pia),
            trainer=Trainer.objects.get(user=coach),
            is_primary=True,
        )
    connection.set_schema_to_public()
    return trainer_email, client_email


def _remove(gym: Gym, emails: tuple[str, str]) -> None:
    connection.set_schema_to_public()
    with tenant_context(gym):
        clients = Client.objects.filter(user__email__in=emails)
        Assignment.objects.filter(client__in=clients).delete()
        clients.delete()  # their conversations go with them
        Trainer.objects.filter(user__email__in=emails).delete()
        User.objects.filter(email__in=emails).delete()
    connection.set_schema_to_public()


def _log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _live(page) -> None:  # type: ignore[no-untyped-def]
    expect(page.locator("html")).to_have_attribute("data-messaging-live", "on")


def test_a_trainer_and_a_client_talk_in_real_time(asgi_server_port, committed_db, browser):
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    tag = uuid.uuid4().hex[:8]
    emails = _people(gym, tag)
    base = f"http://{BROWSER.host}:{asgi_server_port}"
    coach_context = browser.new_context(**DESKTOP)
    pia_context = browser.new_context(**PHONE)
    errors: list[str] = []
    try:
        coach = coach_context.new_page()
        pia = pia_context.new_page()
        for page in (coach, pia):
            page.set_default_timeout(15_000)
            page.on(
                "console",
                lambda m: errors.append(f"{m.text} at {m.location}") if m.type == "error" else None,
            )
        _log_in(coach, base, emails[0])
        _log_in(pia, base, emails[1])

        # The trainer finds their client and opens a conversation.
        coach.goto(f"{base}/messages/")
        coach.get_by_label("Find a client to message").fill(f"Portal{tag}")
        coach.get_by_role("button", name=f"Pia Portal{tag}").click()
        expect(coach.get_by_test_id("thread")).to_be_visible()
        _live(coach)

        # The client opens it on her phone.
        pia.goto(f"{base}/portal/messages/")
        pia.get_by_test_id("conversation-list").get_by_text("Theo Coach").click()
        expect(pia.get_by_test_id("thread")).to_be_visible()
        _live(pia)

        coach.get_by_label("Message", exact=True).fill("Hi Pia, ready for Monday?")
        coach.get_by_role("button", name="Send").click()
        expect(pia.get_by_test_id("message").filter(has_text="ready for Monday")).to_be_visible()

        pia.get_by_label("Message", exact=True).fill("Yes! See you at 7")
        pia.get_by_label("Message", exact=True).press("Enter")
        expect(coach.get_by_test_id("message").filter(has_text="See you at 7")).to_be_visible()
        # Both had the thread open: each has read the other's message.
        expect(coach.get_by_test_id("seen")).to_be_visible()
        coach.screenshot(path=str(SCREENSHOTS / "messaging_inbox_desktop.png"))
        pia.screenshot(path=str(SCREENSHOTS / "messaging_thread_phone.png"))
        assert pia.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]

        # Away from the thread, the client's count goes up as the trainer writes...
        pia.goto(f"{base}/portal/")
        _live(pia)
        badge = pia.get_by_role("navigation", name="Portal").get_by_test_id("unread-badge")
        expect(badge).to_be_hidden()
        coach.get_by_label("Message", exact=True).fill("Bring your water bottle")
        coach.get_by_role("button", name="Send").click()
        expect(badge).to_be_visible()
        expect(badge).to_contain_text("1")
        # ...and down when she reads it.
        pia.get_by_role("navigation", name="Portal").get_by_role("link", name="Messages").click()
        pia.get_by_test_id("conversation-list").get_by_text("Theo Coach").click()
        expect(pia.get_by_test_id("message").filter(has_text="water bottle")).to_be_visible()
        expect(
            pia.get_by_role("navigation", name="Portal").get_by_test_id("unread-badge")
        ).to_be_hidden()

        # The trainer's navigation counts too, on any page.
        coach.goto(f"{base}/")
        _live(coach)
        coach_badge = coach.locator(".sidenav").get_by_test_id("unread-badge")
        expect(coach_badge).to_be_hidden()
        pia.get_by_label("Message", exact=True).fill("Got it")
        pia.get_by_role("button", name="Send").click()
        expect(coach_badge).to_contain_text("1")
        coach.screenshot(path=str(SCREENSHOTS / "messaging_badge_desktop.png"))
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        coach_context.close()
        pia_context.close()
        _remove(gym, emails)
