"""The private ICS feed: content, tokens, and isolation between users and gyms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.ics_feeds.ics import Event, calendar_text
from apps.ics_feeds.models import CalendarFeed
from apps.ics_feeds.selectors import token_hash
from apps.ics_feeds.services import calendar_feed_revoke, calendar_feed_rotate
from apps.scheduling.models import Appointment, AppointmentStatus
from tests.crm.conftest import CrmGym

pytestmark = pytest.mark.django_db


def _at(days: int, hour: int) -> datetime:
    base = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return base + timedelta(days=days, hours=hour)


def _appointment(crm: CrmGym, client, start: datetime, **extra) -> Appointment:  # type: ignore[no-untyped-def]
    return Appointment.objects.create(
        trainer=crm.tom, client=client, starts_at=start, ends_at=start + timedelta(hours=1), **extra
    )


def _unfold(text: str) -> list[str]:
    assert "\n" not in text.replace("\r\n", "")  # every line ends with CRLF
    return text.replace("\r\n ", "").split("\r\n")


def _events(text: str) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    for line in _unfold(text):
        if line == "BEGIN:VEVENT":
            events.append({})
        elif events and ":" in line and line != "END:VEVENT":
            key, value = line.split(":", 1)
            events[-1].setdefault(key, value)
    return events


def test_feed_lists_own_appointments_in_utc_with_cancelled_status(sched_a, studio, client_a):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        start = _at(3, 13)
        mine = _appointment(sched_a, sched_a.cara, start, room=studio)
        cancelled = _appointment(
            sched_a, sched_a.cara, _at(4, 13), status=AppointmentStatus.CANCELLED
        )
        others = _appointment(sched_a, sched_a.bob, _at(5, 13))
        too_old = _appointment(sched_a, sched_a.cara, _at(-40, 13))
        token = calendar_feed_rotate(user=sched_a.cara_user)

    response = client_a.get(f"/calendar/{token}.ics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    lines = _unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-2] == "END:VCALENDAR"
    assert lines[-1] == ""
    assert all(len(raw.encode()) <= 75 for raw in text.split("\r\n"))
    events = {event["UID"]: event for event in _events(text)}
    host = sched_a.gym.host
    assert set(events) == {f"appointment-{mine.pk}@{host}", f"appointment-{cancelled.pk}@{host}"}
    assert f"appointment-{others.pk}@{host}" not in text
    assert f"appointment-{too_old.pk}@{host}" not in text
    event = events[f"appointment-{mine.pk}@{host}"]
    assert event["DTSTART"] == start.strftime("%Y%m%dT%H%M%SZ")
    assert event["DTEND"] == (start + timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
    assert event["LOCATION"] == "Studio"
    assert event["STATUS"] == "CONFIRMED"
    assert "Cara" in event["SUMMARY"]
    assert event["DTSTAMP"].endswith("Z")
    assert events[f"appointment-{cancelled.pk}@{host}"]["STATUS"] == "CANCELLED"


def test_trainer_feed_shows_only_their_sessions(sched_a, client_a):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        toms = _appointment(sched_a, sched_a.cara, _at(2, 10))
        tinas = Appointment.objects.create(
            trainer=sched_a.tina,
            client=sched_a.ann,
            starts_at=_at(2, 10),
            ends_at=_at(2, 11),
        )
        token = calendar_feed_rotate(user=sched_a.tom.user)

    text = client_a.get(f"/calendar/{token}.ics").content.decode()

    assert f"appointment-{toms.pk}@" in text
    assert f"appointment-{tinas.pk}@" not in text


def test_special_characters_and_long_lines_survive_a_round_trip() -> None:
    from datetime import UTC, datetime, timedelta

    from icalendar import Calendar

    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    summary = "Squats, lunges; core\\ and " + "é" * 60
    text = calendar_text(
        events=[
            Event(uid="x@y", starts_at=start, ends_at=start + timedelta(hours=1), summary=summary)
        ],
        name="Gym, Inc.",
        now=start,
    )
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert text.endswith("\r\n")
    event = Calendar.from_ical(text).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == summary
    assert event.decoded("DTSTART") == start


def test_rotate_replaces_token_and_stores_only_its_hash(sched_a, client_a):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        first = calendar_feed_rotate(user=sched_a.cara_user)
        second = calendar_feed_rotate(user=sched_a.cara_user)
        feed = CalendarFeed.objects.get(user=sched_a.cara_user)
        assert feed.token_hash == token_hash(second)
        assert second not in feed.token_hash
        assert AuditEvent.objects.filter(action__startswith="calendar_feed.").count() == 2

    assert client_a.get(f"/calendar/{first}.ics").status_code == 404
    assert client_a.get(f"/calendar/{second}.ics").status_code == 200


def test_revoked_and_unknown_tokens_are_404(sched_a, client_a):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        token = calendar_feed_rotate(user=sched_a.cara_user)
        calendar_feed_revoke(user=sched_a.cara_user)

    assert client_a.get(f"/calendar/{token}.ics").status_code == 404
    assert client_a.get("/calendar/not-a-real-token.ics").status_code == 404


def test_gym_a_token_is_unknown_on_gym_b(sched_a, crm_b, client_b):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        token = calendar_feed_rotate(user=sched_a.cara_user)

    assert client_b.get(f"/calendar/{token}.ics").status_code == 404


def test_settings_page_rotates_shows_url_and_revokes(sched_a, client_a):  # type: ignore[no-untyped-def]
    assert client_a.get("/calendar/").status_code == 302  # login required
    client_a.force_login(sched_a.cara_user)

    response = client_a.post("/calendar/", {"action": "rotate"})

    assert response.status_code == 200
    url = response.context["feed_url"]
    assert url.startswith("http://alpha.localhost/calendar/")
    assert url.endswith(".ics")
    assert "Google" in response.content.decode()
    path = url.removeprefix("http://alpha.localhost")
    assert client_a.get(path).status_code == 200

    assert client_a.post("/calendar/", {"action": "revoke"}).status_code == 302
    assert client_a.get(path).status_code == 404
    assert client_a.get("/calendar/").status_code == 200


def test_feed_runs_a_bounded_number_of_queries(  # type: ignore[no-untyped-def]
    sched_a, studio, client_a, django_assert_max_num_queries
):
    with tenant_context(sched_a.gym):
        for day in range(1, 21):
            _appointment(sched_a, sched_a.cara, _at(day, 9), room=studio)
        token = calendar_feed_rotate(user=sched_a.cara_user)

    with django_assert_max_num_queries(12):
        response = client_a.get(f"/calendar/{token}.ics")
    assert response.content.decode().count("BEGIN:VEVENT") == 20
