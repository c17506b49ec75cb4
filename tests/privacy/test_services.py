"""Export and erasure across every registered personal-data model."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.test import RequestFactory
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.crm.models import Assignment, Client, Consent, Lead, Note, Trainer
from apps.ics_feeds.models import CalendarFeed
from apps.privacy.models import ErasureRecord
from apps.privacy.registry import PersonalDataRegistry, personal_data
from apps.privacy.services import personal_data_erase, personal_data_export
from apps.progress.models import BodyMeasurement, ProgressPhoto
from apps.scheduling.models import (
    Appointment,
    ClassBooking,
    ClassOccurrence,
    ClassType,
    Strike,
)
from apps.workouts.models import CardioLog, SetLog, WeeklyTarget, WorkoutLog
from tests.conftest import activate_totp, make_user


def _audit_event(user: User) -> None:
    from apps.audit.services import audit_record, request_context

    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox")
    with request_context(request):
        audit_record(action="auth.login", actor=user)


def _wearables():  # type: ignore[no-untyped-def]
    from apps.wearables import models

    return models


def _client_of(user: User) -> Client:
    """The person's CRM record (factories run in registry order, so any may come first)."""
    client, _ = Client.objects.get_or_create(
        user=user,
        defaults={
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "phone": user.phone,
            "emergency_contact_name": f"Partner of {user.first_name} {user.last_name}",
            "goals": f"{user.first_name} wants to run a marathon",
            "health_notes": f"{user.first_name} has asthma",
            "tags": [user.last_name.lower()],
        },
    )
    return client


def _other_trainer() -> Trainer:
    coach = User.objects.filter(email="coach@privacy.example").first() or make_user(
        Role.TRAINER, "coach@privacy.example", first_name="Coach"
    )
    return Trainer.objects.get_or_create(user=coach)[0]


def _training_plan_of(user: User) -> Any:
    """The person's plan (training): one phase, one week, one day."""
    from apps.training.models import PlanDay, PlanPhase, PlanWeek, WorkoutPlan

    client = _client_of(user)
    plan = WorkoutPlan.objects.filter(client=client).first()
    if plan is None:
        plan = WorkoutPlan.objects.create(
            name=f"{user.first_name}'s marathon plan",
            goal=f"{user.first_name} {user.last_name} runs a marathon",
            is_template=False,
            client=client,
            start_date=timezone.localdate(),
            status="active",
        )
        phase = PlanPhase.objects.create(plan=plan, order=1, name="Base")
        week = PlanWeek.objects.create(plan=plan, phase=phase, number=1)
        PlanDay.objects.create(week=week, offset=1, name=f"{user.first_name}'s long run")
    return plan


def _plan_day_of(user: User) -> Any:
    from apps.training.models import PlanDay

    return PlanDay.objects.get(week__plan=_training_plan_of(user))


def _plan_item_of(user: User) -> Any:
    from apps.training.models import Exercise, PlanItem

    exercise = Exercise.objects.get_or_create(
        slug="gym-privacy-run",
        defaults={"name": "Privacy run", "category": "cardio", "primary_muscles": ["quads"]},
    )[0]
    return PlanItem.objects.get_or_create(
        day=_plan_day_of(user),
        order=1,
        defaults={
            "exercise": exercise,
            "kind": "cardio",
            "duration_seconds": 600,
            "notes": f"{user.first_name} keeps it easy",
        },
    )[0]


def _scheduled_workout_of(user: User) -> Any:
    from apps.training.models import PlanDay, ScheduledWorkout

    plan = _training_plan_of(user)
    day = PlanDay.objects.get(week__plan=plan)
    return ScheduledWorkout.objects.get_or_create(
        plan=plan, day=day, defaults={"client": plan.client, "date": plan.start_date}
    )[0]


def _workout_log_of(user: User) -> Any:
    """The person's workout log (workouts), of their scheduled workout, with notes about them."""
    return WorkoutLog.objects.get_or_create(
        client=_client_of(user),
        defaults={
            "scheduled_workout": _scheduled_workout_of(user),
            "performed_on": timezone.localdate(),
            "started_at": timezone.now(),
            "notes": f"{user.first_name} {user.last_name} felt strong",
        },
    )[0]


def _privacy_exercise() -> Any:
    from apps.training.models import Exercise

    exercise, _created = Exercise.objects.get_or_create(
        slug="privacy-squat", defaults={"name": "Privacy squat"}
    )
    return exercise


def _membership_of(user: User) -> Any:
    from apps.billing.models import Membership, MembershipPlan

    plan, _created = MembershipPlan.objects.get_or_create(
        name="Privacy unlimited", defaults={"price": 5000, "currency": "EUR"}
    )
    today = timezone.localdate()
    return Membership.objects.create(
        client=_client_of(user),
        plan=plan,
        started_on=today,
        current_period_start=today,
        current_period_end=today + timedelta(days=30),
    )


def _credits_of(user: User) -> Any:
    from apps.billing.models import CreditGrant, CreditKind, Pack

    pack, _created = Pack.objects.get_or_create(
        name="Privacy pack", defaults={"credits": 5, "price": 4000, "currency": "EUR"}
    )
    return CreditGrant.objects.create(
        client=_client_of(user), pack=pack, kind=CreditKind.CLASS, granted=5, remaining=5
    )


def _message_of(user: User) -> Any:
    from apps.messaging import services as messaging

    conversation = messaging.conversation_with_gym(client=_client_of(user))
    return messaging.post_message(conversation=conversation, sender_user=user, body="See you!")


def _payment_of(user: User) -> Any:
    from apps.billing.models import Payment, PaymentKind

    return Payment.objects.create(
        client=_client_of(user),
        kind=PaymentKind.OFFLINE_CASH,
        amount=5000,
        currency="EUR",
        description="Privacy unlimited",
        reason=f"{user.first_name} paid at the desk",
        paid_at=timezone.now(),
    )


# One way to create a row about `user` for every model that may register personal data. A model
# registered without an entry here fails test_every_registered_model_has_a_factory, so erasure is
# always tested against every registered model.
FACTORIES: dict[str, Callable[[User], Any]] = {
    "accounts.user": lambda user: user,  # the person themselves
    "account.emailaddress": lambda user: EmailAddress.objects.create(
        user=user, email=f"alt.{user.email}", verified=False, primary=False
    ),
    "usersessions.usersession": lambda user: UserSession.objects.create(
        user=user,
        ip="203.0.113.7",
        user_agent=f"Firefox on {user.first_name}'s phone",
        session_key=uuid.uuid4().hex,
    ),
    "mfa.authenticator": lambda user: activate_totp(user),
    "audit.auditevent": _audit_event,
    "crm.client": _client_of,
    "wearables.connection": lambda user: _wearables().Connection.objects.create(
        client=_client_of(user), provider="strava", provider_user_id="9", refresh_token="secret"
    ),
    "wearables.dailyactivity": lambda user: _wearables().DailyActivity.objects.create(
        client=_client_of(user), provider="garmin", provider_id="d", date=timezone.localdate()
    ),
    "wearables.heartrateday": lambda user: _wearables().HeartRateDay.objects.create(
        client=_client_of(user), provider="garmin", provider_id="h", date=timezone.localdate()
    ),
    "wearables.sleepsession": lambda user: _wearables().SleepSession.objects.create(
        client=_client_of(user),
        provider="garmin",
        provider_id="s",
        date=timezone.localdate(),
        start_at=timezone.now() - timedelta(hours=8),
        end_at=timezone.now(),
    ),
    "wearables.externalworkout": lambda user: _wearables().ExternalWorkout.objects.create(
        client=_client_of(user),
        provider="strava",
        provider_id="w",
        sport="Run",
        name=f"{user.first_name}'s run",
        start_at=timezone.now(),
        date=timezone.localdate(),
        duration_seconds=60,
    ),
    "wearables.nutritionday": lambda user: _wearables().NutritionDay.objects.create(
        client=_client_of(user), provider="myfitnesspal", provider_id="n", date=timezone.localdate()
    ),
    "wearables.nutritiontarget": lambda user: _wearables().NutritionTarget.objects.get_or_create(
        client=_client_of(user), defaults={"calories_kcal": 2100}
    )[0],
    "wearables.healthexport": lambda user: _wearables().HealthExport.objects.create(
        client=_client_of(user), file_name=f"{user.first_name}-export.zip", size_bytes=100
    ),
    "wearables.healthsample": lambda user: _wearables().HealthSample.objects.create(
        client=_client_of(user),
        uuid=uuid.uuid4(),
        sample_type="HKQuantityTypeIdentifierStepCount",
        start_at=timezone.now() - timedelta(hours=1),
        end_at=timezone.now(),
        value=1200,
        source=f"{user.first_name}'s iPhone",
    ),
    "crm.note": lambda user: Note.objects.create(
        client=_client_of(user), kind="health", body=f"{user.first_name}'s knee hurts"
    ),
    "crm.consent": lambda user: Consent.objects.create(
        client=_client_of(user), kind="photos", granted=True
    ),
    "crm.assignment": lambda user: Assignment.objects.create(
        client=_client_of(user), trainer=_other_trainer(), is_primary=True
    ),
    "crm.lead": lambda user: Lead.objects.create(
        client=_client_of(user),
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        phone=user.phone,
    ),
    "scheduling.appointment": lambda user: Appointment.objects.create(
        trainer=_other_trainer(),
        client=_client_of(user),
        # One trainer for everybody: each person's session at its own hour.
        starts_at=timezone.now() + timedelta(days=1, hours=2 * user.pk),
        ends_at=timezone.now() + timedelta(days=1, hours=2 * user.pk + 1),
        notes=f"{user.first_name} wants to work on squats",
    ),
    "scheduling.classbooking": lambda user: ClassBooking.objects.create(
        occurrence=ClassOccurrence.objects.create(
            class_type=ClassType.objects.get_or_create(name="Privacy spin")[0],
            starts_at=timezone.now() + timedelta(days=1),
            ends_at=timezone.now() + timedelta(days=1, hours=1),
            capacity=10,
        ),
        client=_client_of(user),
    ),
    "scheduling.strike": lambda user: Strike.objects.create(
        client=_client_of(user),
        kind="no_show",
        class_booking=FACTORIES["scheduling.classbooking"](user),
        occurred_at=timezone.now(),
        waive_reason=f"{user.first_name} was ill",
        waived_at=timezone.now(),
    ),
    "calendars.calendarfeed": lambda user: CalendarFeed.objects.create(
        user=user, token_hash=f"{user.pk:064d}"
    ),
    "crm.trainer": lambda user: Trainer.objects.create(
        user=user, bio=f"{user.first_name} {user.last_name} also coaches juniors"
    ),
    "training.workoutplan": _training_plan_of,
    "training.planphase": lambda user: _training_plan_of(user).phases.get(),
    "training.planweek": lambda user: _training_plan_of(user).weeks.get(),
    "training.planday": lambda user: _plan_day_of(user),
    "training.planitem": _plan_item_of,
    "training.scheduledworkout": _scheduled_workout_of,
    "progress.bodymeasurement": lambda user: BodyMeasurement.objects.create(
        client=_client_of(user), weight_kg=80, notes=f"{user.first_name} measured after a run"
    ),
    "progress.progressphoto": lambda user: ProgressPhoto.objects.create(
        client=_client_of(user),
        pose="front",
        file_name=f"progress/{uuid.uuid4().hex}.jpg",
        thumbnail_name=f"progress/{uuid.uuid4().hex}-thumb.jpg",
        width=10,
        height=10,
        size_bytes=100,
    ),
    "workouts.workoutlog": _workout_log_of,
    "workouts.setlog": lambda user: SetLog.objects.create(
        log=_workout_log_of(user), exercise=_privacy_exercise(), set_number=1, reps=5
    ),
    "workouts.cardiolog": lambda user: CardioLog.objects.create(
        log=_workout_log_of(user), exercise=_privacy_exercise(), duration_seconds=600
    ),
    "workouts.weeklytarget": lambda user: WeeklyTarget.objects.create(client=_client_of(user)),
    "billing.membership": _membership_of,
    "billing.creditgrant": _credits_of,
    "billing.payment": _payment_of,
    "messaging.message": _message_of,
    "notifications.notification": lambda user: _notifications_of(user)[0],
    "notifications.delivery": lambda user: _notifications_of(user)[1],
    "notifications.preference": lambda user: _notifications_of(user)[2],
    "notifications.pushsubscription": lambda user: _notifications_of(user)[3],
}


def _notifications_of(user: User) -> tuple[Any, Any, Any, Any]:
    from apps.notifications.models import Delivery, Notification, Preference, PushSubscription

    text = f"Hello {user.first_name} {user.last_name} ({user.email}, {user.phone})"
    notification = Notification.objects.create(recipient=user, kind="test", title=text, body=text)
    delivery, _created = Delivery.objects.get_or_create(
        channel="email",
        event_key=f"privacy:u{user.pk}",
        defaults={
            "recipient_user": user,
            "kind": "test",
            "address": user.email,
            "subject": text,
            "body": text,
            "html": f"<p>{text}</p>",
            "error": f"{user.phone} refused",
        },
    )
    preference, _created = Preference.objects.get_or_create(user=user)
    push, _created = PushSubscription.objects.get_or_create(
        endpoint=f"https://fcm.googleapis.com/fcm/send/{user.pk}",
        defaults={"user": user, "p256dh": "k", "auth": "a", "user_agent": text[:200]},
    )
    return notification, delivery, preference, push


def make_person(email: str, first: str, last: str, phone: str) -> User:
    """A client with a row in every registered model, and an audit event about their record
    written by someone else (a receptionist correcting their phone number)."""
    from apps.audit.services import audit_record

    user = make_user(Role.CLIENT, email, first_name=first, last_name=last, phone=phone)
    for entry in personal_data.entries():
        FACTORIES[entry.label](user)
    audit_record(
        action="client.updated",
        obj=_client_of(user),
        changes={
            "phone": {"before": "", "after": phone},
            "first_name": {"before": "", "after": first},
        },
    )
    return user


def needles(user: User) -> list[str]:
    return [user.email, f"alt.{user.email}", user.first_name, user.last_name, user.phone]


def text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value)
    return ""


def rows_mentioning(words: list[str]) -> list[str]:
    """Every (model, pk, field) in a registered model whose text contains any of `words`."""
    found = []
    for entry in personal_data.entries():
        fields = [
            f
            for f in entry.model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        for row in entry.model._base_manager.values("pk", *[f.attname for f in fields]):
            for field in fields:
                text = text_of(row[field.attname]).lower()
                found += [
                    f"{entry.label}#{row['pk']}.{field.attname}"
                    for word in words
                    if word.lower() in text
                ]
    return found


def test_every_registered_model_has_a_factory():
    registered = {entry.label for entry in personal_data.entries()}
    assert registered - set(FACTORIES) == set(), "add a factory for each new registration"
    # The core set is always there.
    assert {"accounts.user", "account.emailaddress", "mfa.authenticator"} <= registered


def test_export_holds_the_persons_data_and_nobody_elses(in_gym_a):
    jane = make_person("jane@alpha.example", "Janeth", "Doeberg", "+15550100001")
    other = make_person("max@alpha.example", "Maximilian", "Otherson", "+15550100002")

    archive = zipfile.ZipFile(io.BytesIO(personal_data_export(user=jane)))

    expected = {f"{entry.label}.json" for entry in personal_data.entries()} | {"README.txt"}
    assert set(archive.namelist()) == expected
    everything = " ".join(archive.read(name).decode() for name in archive.namelist())
    for word in needles(jane):
        assert word in everything
    for word in needles(other):
        assert word not in everything
    user_rows = json.loads(archive.read("accounts.user.json"))
    assert [row["email"] for row in user_rows] == [jane.email]
    # Secrets are not personal data to hand out: no password hash, TOTP secret or session key.
    assert "password" not in user_rows[0]
    for row in json.loads(archive.read("mfa.authenticator.json")):
        assert set(row) == {"type", "created_at", "last_used_at"}
    assert "session_key" not in archive.read("usersessions.usersession.json").decode()
    emails = {row["email"] for row in json.loads(archive.read("account.emailaddress.json"))}
    assert emails == {jane.email, f"alt.{jane.email}"}


def test_erasure_leaves_nothing_naming_the_client(in_gym_a, owner_a):
    jane = make_person("jane@alpha.example", "Janeth", "Doeberg", "+15550100001")
    other = make_person("max@alpha.example", "Maximilian", "Otherson", "+15550100002")
    words = needles(jane)
    assert rows_mentioning(words)  # the search does see the data before erasure

    record = personal_data_erase(user=jane, actor=owner_a, reason="Asked by email")

    assert rows_mentioning(words) == []
    jane.refresh_from_db()
    assert jane.email == f"erased-{jane.pk}@invalid.example"
    assert not jane.is_active
    assert not jane.has_usable_password()
    assert (jane.first_name, jane.last_name, jane.phone) == ("", "", "")
    assert record.user == jane
    assert record.erased_by == owner_a
    assert ErasureRecord.objects.get(pk=record.pk).reason == "Asked by email"
    # Deleted outright where nothing requires keeping them.
    assert not EmailAddress.objects.filter(user=jane).exists()
    assert not UserSession.objects.filter(user=jane).exists()
    # Everybody else is untouched.
    assert rows_mentioning(needles(other))
    assert EmailAddress.objects.filter(user=other).count() == 2


def test_erasure_keeps_audit_events_anonymised(in_gym_a, owner_a):
    from apps.audit.models import AuditEvent

    jane = make_person("jane@alpha.example", "Janeth", "Doeberg", "+15550100001")
    own_events = list(AuditEvent.objects.filter(actor=jane).values_list("pk", flat=True))
    assert own_events

    personal_data_erase(user=jane, actor=owner_a)

    kept = AuditEvent.objects.filter(pk__in=own_events)
    assert kept.count() == len(own_events)  # kept for the law, not deleted
    for event in kept:
        assert event.actor_email == "erased"
        assert event.ip is None
        assert event.user_agent == ""
        assert event.action == "auth.login"  # what happened stays
    erased = AuditEvent.objects.get(action="privacy.erased")
    assert erased.actor == owner_a
    assert erased.object_id == str(jane.pk)


def test_registry_rejects_wrong_registrations():
    registry = PersonalDataRegistry()
    with pytest.raises(ValueError, match="keep_for_law"):
        registry.register(EmailAddress, user_path="user", keep_for_law=True)
    with pytest.raises(ValueError, match="anonymise"):
        registry.register(EmailAddress, user_path="user", erase="anonymise")
    registry.register(EmailAddress, user_path="user")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(EmailAddress, user_path="user")

    registry = PersonalDataRegistry()
    registry.register(EmailAddress, user_path="nope")
    with pytest.raises(ImproperlyConfigured, match="no field"):
        registry.entries()
    registry = PersonalDataRegistry()
    registry.register(EmailAddress, user_path="user", export_fields=["email", "secret"])
    with pytest.raises(ImproperlyConfigured, match="not a concrete field"):
        registry.entries()
    registry = PersonalDataRegistry()
    registry.register("nothere.Model", user_path="user")
    assert registry.entries() == []
