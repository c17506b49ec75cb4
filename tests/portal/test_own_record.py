"""A client's own record is made when they sign in (or are invited), never by a page view: a
GET writes nothing."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.crm.models import Client
from tests.conftest import ALPHA, GymClient, login, make_user


@pytest.fixture
def dana(gym_a):  # type: ignore[no-untyped-def]
    """A client login made outside the invitation flow (the admin, an older account)."""
    with tenant_context(gym_a):
        return make_user(Role.CLIENT, "dana@alpha.example", first_name="Dana", last_name="Day")


def test_signing_in_makes_the_record(gym_a, dana) -> None:
    with tenant_context(gym_a):
        assert not Client.objects.filter(user=dana).exists()
    browser = GymClient(ALPHA.subdomain)
    with tenant_context(gym_a):
        assert login(browser, dana.email).status_code == 302
        client = Client.objects.get(user=dana)
    assert (client.first_name, client.email) == ("Dana", "dana@alpha.example")
    assert browser.get("/portal/").status_code == 200


@pytest.mark.parametrize("path", ["/portal/", "/portal/schedule/", "/portal/progress/"])
def test_a_page_view_never_writes_the_record(gym_a, dana, path: str) -> None:
    browser = GymClient(ALPHA.subdomain)
    browser.force_login(dana)
    with tenant_context(gym_a):
        Client.objects.filter(user=dana).delete()  # as if the login predated the CRM
    assert browser.get(path).status_code == 404
    with tenant_context(gym_a):
        assert not Client.objects.filter(user=dana).exists()
