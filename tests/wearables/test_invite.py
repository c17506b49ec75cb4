"""Staff ask a client to connect a watch or app from the Activity card on the client's profile:
an in-app note and an email with a link to the client's Activity page in their gym's portal,
once per client and day; for those who see the card only, in their own gym only."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.audit.models import AuditEvent
from apps.crm.models import Client
from apps.notifications.models import Delivery
from tests.conftest import make_user
from tests.fakes.smtp import FakeSmtpServer
from tests.wearables.conftest import make_client
from tests.wearables.test_activity import make_trainer

pytestmark = pytest.mark.django_db

BUTTON = 'data-testid="connect-invite"'


@pytest.fixture
def smtp(settings):  # type: ignore[no-untyped-def]
    with FakeSmtpServer() as server:
        settings.EMAIL_URL = f"smtp://{server.host}:{server.port}"
        settings.DEFAULT_FROM_EMAIL = "FitnessCRM <no-reply@fitnesscrm.example>"
        yield server


def invites():  # type: ignore[no-untyped-def]
    """Deliveries of the invite (staff accounts made by the tests get their own mail)."""
    return Delivery.objects.filter(event_key__startswith="wearable_invite:")


def invite_path(client: Client) -> str:
    return f"/wearables/{client.pk}/invite/"


def test_the_trainer_asks_and_the_client_gets_one_email_with_the_link(
    gym_a, owner_a, client_a, smtp, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "invitee@alpha.example")
    coach = make_trainer(gym_a, owner_a, client)
    client_a.force_login(coach)
    profile = client_a.get(f"/clients/{client.pk}/").content.decode()
    assert BUTTON in profile
    assert f'action="{invite_path(client)}"' in profile

    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(invite_path(client))
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{client.pk}/#wearable-activity"
    shown = client_a.get(response["Location"]).content.decode()
    assert "was asked to connect a watch or app" in shown

    [mail] = smtp.messages
    assert mail.rcpt_tos == ["invitee@alpha.example"]
    assert "connect" in mail.message["Subject"]
    assert "http://alpha.localhost/portal/activity/" in mail.body
    assert "Coach Carter" in mail.body

    # A double click (or a second trainer the same day) sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        again = client_a.post(invite_path(client))
    assert again.status_code == 302
    assert "already asked today" in client_a.get(again["Location"]).content.decode()
    assert len(smtp.messages) == 1
    with tenant_context(gym_a):
        assert sorted(invites().values_list("channel", flat=True)) == ["email", "in_app"]
        [event] = AuditEvent.objects.filter(action="wearables.invite_sent")
        assert event.object_id == str(client.pk)


def test_a_client_without_a_portal_login_gets_a_message_not_an_error(
    gym_a, owner_a, client_a
) -> None:
    with tenant_context(gym_a):
        client = Client.objects.create(
            first_name="Paper", last_name="Only", email="paper@alpha.example"
        )
    client_a.force_login(owner_a)
    response = client_a.post(invite_path(client), follow=True)
    assert response.status_code == 200
    assert "has no portal login" in response.content.decode()
    with tenant_context(gym_a):
        assert not invites().exists()


def test_only_staff_who_see_the_client_may_ask(gym_a, owner_a, client_a) -> None:
    _user, client = make_client(gym_a, "guarded@alpha.example")
    other = make_client(gym_a, "other@alpha.example")[1]
    make_trainer(gym_a, owner_a, client)
    stranger = make_trainer(gym_a, owner_a, other, email="stranger@alpha.example")
    with tenant_context(gym_a):
        desk = make_user(Role.FRONT_DESK, "desk@alpha.example")

    client_a.force_login(stranger)  # the trainer of another client
    assert client_a.post(invite_path(client)).status_code == 404
    client_a.force_login(desk)
    assert client_a.post(invite_path(client)).status_code == 403
    assert BUTTON not in client_a.get(f"/clients/{client.pk}/").content.decode()
    client_a.force_login(owner_a)
    assert client_a.get(invite_path(client)).status_code == 405
    with tenant_context(gym_a):
        assert not invites().exists()


def test_gym_a_staff_cannot_ask_gym_b_clients(gym_a, gym_b, owner_a, client_a) -> None:
    _user, theirs = make_client(gym_b, "theirs@bravo.example")
    with tenant_context(gym_a):
        # The id names nobody in gym A, or somebody else: never gym B's client.
        assert not Client.objects.filter(email="theirs@bravo.example").exists()
        mine = Client.objects.filter(pk=theirs.pk).first()
    client_a.force_login(owner_a)
    response = client_a.post(invite_path(theirs))
    if mine is None:
        assert response.status_code == 404
    with tenant_context(gym_b):
        assert not invites().exists()
