from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.crm.conftest import crm_a, crm_b  # noqa: F401
from tests.fakes.smtp import FakeSmtpServer
from tests.scheduling.conftest import sched_a, studio  # noqa: F401


@pytest.fixture
def smtp_server(settings) -> Iterator[FakeSmtpServer]:
    """A real SMTP server on loopback, with Django's SMTP backend pointed at it."""
    with FakeSmtpServer() as server:
        for name, value in server.settings_overrides.items():
            setattr(settings, name, value)
        yield server
