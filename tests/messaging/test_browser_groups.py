"""A trainer starts a class group from the inbox in a real browser at 1280 and 390 px (only
their own client of the class joins; the page says one was left out), mutes it and unmutes
it; the client mutes it from the portal at 390 px. No console error, CSP violation, sideways
scrolling or serious axe finding. Screenshots go to FITNESSCRM_SCREENSHOTS (a temporary
folder by default).

Runs in the browser gym (charlie) and removes what it made."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.crm.models import Assignment, Client, Trainer
from apps.crm.services import profile_ensure_for_role
from apps.messaging.models import Conversation, Participant
from apps.scheduling.models import ClassBooking, ClassOccurrence, ClassType
from apps.tenants.models import Gym
from tests.browser.test_every_page import AXE, Problems, _check_page, _log_in, _watch
from tests.conftest import BROWSER, make_user

pytestmark = pytest.mark.browser

WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
SCREENSHOTS = Path(os.environ.get("FITNESSCRM_SCREENSHOTS") or tempfile.gettempdir())


def test_a_trainer_starts_a_class_group_and_mutes_it(  # type: ignore[no-untyped-def]
    django_db_setup, live_server_port, committed_db, browser
):
    base = f"http://{BROWSER.host}:{live_server_port}"
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    tag = uuid.uuid4().hex[:8]
    trainer_email = f"group-trainer-{tag}@charlie.example"
    client_email = f"group-client-{tag}@charlie.example"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    axe_source = AXE.read_text()
    problems = Problems()
    try:
        with tenant_context(gym), transaction.atomic():
            trainer_user = make_user(Role.TRAINER, trainer_email, first_name="Gia", last_name=tag)
            profile_ensure_for_role(user=trainer_user)
            client_user = make_user(Role.CLIENT, client_email, first_name="Ola", last_name=tag)
            profile_ensure_for_role(user=client_user)
            mine = Client.objects.get(user=client_user)
            other = Client.objects.create(first_name="Not", last_name=tag)
            Assignment.objects.create(
                client=mine, trainer=trainer_user.trainer_profile, is_primary=True
            )
            class_type = ClassType.objects.create(name=f"Group yoga {tag}")
            starts_at = timezone.now() + timedelta(days=1)
            occurrence = ClassOccurrence.objects.create(
                class_type=class_type,
                trainer=trainer_user.trainer_profile,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
                capacity=10,
            )
            for client in (mine, other):
                ClassBooking.objects.create(occurrence=occurrence, client=client, status="booked")
        connection.set_schema_to_public()

        for width, viewport in WIDTHS.items():
            context = browser.new_context(viewport=viewport, has_touch=width == "390")
            page = context.new_page()
            page.set_default_timeout(20_000)
            try:
                problems.page = f"[{width}] sign-in"
                _watch(page, problems, base)
                _log_in(page, base, trainer_email)

                problems.page = f"[{width}] inbox"
                page.goto(f"{base}/messages/")
                _check_page(page, problems, axe_source)
                page.get_by_test_id("new-group").click()
                page.wait_for_url(f"{base}/messages/groups/new/")

                problems.page = f"[{width}] new group"
                _check_page(page, problems, axe_source)
                page.screenshot(
                    path=str(SCREENSHOTS / f"messaging-group-new-{width}.png"), full_page=True
                )
                page.fill("#id_title", f"Yoga crew {width} {tag}")
                # Each kind shows only the list it takes people from.
                page.check("input[name=kind][value=team]")
                expect(page.locator("#id_tag")).to_be_visible()
                expect(page.locator("#id_occurrence")).to_be_hidden()
                page.check("input[name=kind][value=class]")
                expect(page.locator("#id_tag")).to_be_hidden()
                page.select_option("#id_occurrence", str(occurrence.pk))
                page.get_by_test_id("group-create").click()
                page.wait_for_url(lambda url: "/groups/new/" not in url)

                problems.page = f"[{width}] group thread"
                _check_page(page, problems, axe_source)
                assert page.get_by_text("1 client of the class is not yours").is_visible()
                assert page.get_by_test_id("thread").is_visible()
                page.get_by_test_id("mute").click()
                expect(page.get_by_test_id("mute")).to_have_text("Unmute")
                page.screenshot(
                    path=str(SCREENSHOTS / f"messaging-group-muted-{width}.png"), full_page=True
                )
                with tenant_context(gym):
                    conversation = Conversation.objects.get(title=f"Yoga crew {width} {tag}")
                    members = set(
                        Participant.objects.filter(conversation=conversation).values_list(
                            "user_id", "client_id"
                        )
                    )
                    assert members == {(trainer_user.pk, None), (None, mine.pk)}
                    assert Participant.objects.get(
                        conversation=conversation, user=trainer_user
                    ).muted
                connection.set_schema_to_public()
                page.get_by_test_id("mute").click()
                expect(page.get_by_test_id("mute")).to_have_text("Mute")
            finally:
                context.close()

        # The client mutes the group from the portal on a phone.
        context = browser.new_context(viewport=WIDTHS["390"], has_touch=True)
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            problems.page = "[390] portal group thread"
            _watch(page, problems, base)
            _log_in(page, base, client_email)
            page.goto(f"{base}/portal/messages/{conversation.pk}/")
            _check_page(page, problems, axe_source)
            page.get_by_test_id("mute").click()
            expect(page.get_by_test_id("mute")).to_have_text("Unmute")
            page.screenshot(
                path=str(SCREENSHOTS / "messaging-portal-muted-390.png"), full_page=True
            )
            with tenant_context(gym):
                assert Participant.objects.get(conversation=conversation, client=mine).muted
            connection.set_schema_to_public()
        finally:
            context.close()
        # The live server here is WSGI: the inbox's and the bell's sockets find no /ws/ on it.
        found = [p for p in problems.found if "WebSocket connection" not in p]
        assert not found, "\n".join(found)
    finally:
        connection.set_schema_to_public()
        with tenant_context(gym):
            Conversation.objects.filter(title__endswith=tag).delete()
            ClassOccurrence.objects.filter(class_type__name__endswith=tag).delete()
            ClassType.objects.filter(name__endswith=tag).delete()
            Assignment.objects.filter(client__last_name=tag).delete()
            Client.objects.filter(last_name=tag).delete()
            Trainer.objects.filter(user__email=trainer_email).delete()
            User.objects.filter(email__in=[trainer_email, client_email]).delete()
        connection.set_schema_to_public()
