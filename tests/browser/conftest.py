"""Browser tests: a live server on loopback serving the test database, driven by Debian's
Chromium through Playwright. Data a browser test creates is committed, so each test removes
what it made."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server_port(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A server for one test. Function-scoped on purpose: it needs the database unblocked, and
    an unblocked database must not outlive the test (later tests would write for real)."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright runs an event loop
    with django_db_blocker.unblock():
        thread = LiveServerThread("localhost", StaticFilesHandler, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        yield thread.port
        thread.terminate()


@pytest.fixture(scope="session")
def browser(django_db_setup):  # type: ignore[no-untyped-def]
    # After the test database exists: Playwright's event loop would make Django refuse to
    # create it ("cannot call this from an async context").
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it (apt chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def committed_db(live_server_port) -> None:
    """Database access without pytest-django's rollback (the live server's unblocking covers
    the test too): what the test and the server write stays, so tests clean up after
    themselves."""
