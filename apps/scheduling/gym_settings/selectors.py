"""Reads of the gym settings pages: locations, rooms and trainers' availability. Each takes the
viewer and returns only what that viewer may see; a row of another gym never exists here (each
gym's rows live in its own schema)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.crm.models import Trainer
from apps.scheduling.models import Availability, AvailabilityException, Location, Room


def location_list(*, viewer: User) -> QuerySet[Location]:
    """Every location with its rooms (two queries whatever the count), for management."""
    if not is_management(viewer):
        return Location.objects.none()
    rooms = Room.objects.order_by("name", "pk")
    return Location.objects.prefetch_related(Prefetch("rooms", queryset=rooms)).annotate(
        room_count=Count("rooms")
    )


def location_get(*, viewer: User, pk: int) -> Location:
    """Raises Location.DoesNotExist when it does not exist or the viewer may not see it."""
    return location_list(viewer=viewer).get(pk=pk)


def room_list(*, viewer: User) -> QuerySet[Room]:
    if not is_management(viewer):
        return Room.objects.none()
    return Room.objects.select_related("location")


def room_get(*, viewer: User, pk: int) -> Room:
    return room_list(viewer=viewer).get(pk=pk)


def availability_trainer_list(*, viewer: User) -> QuerySet[Trainer]:
    """Trainers whose availability the viewer may edit: all of them for management, their own
    profile for a trainer, none for anybody else."""
    trainers = Trainer.objects.select_related("user").annotate(
        window_count=Count("availability", distinct=True)
    )
    if is_management(viewer):
        return trainers.order_by("user__first_name", "user__last_name", "pk")
    if has_role(viewer, Role.TRAINER):
        return trainers.filter(user=viewer)
    return trainers.none()


def availability_trainer_get(*, viewer: User, pk: int) -> Trainer:
    """Raises Trainer.DoesNotExist when the viewer may not edit that trainer's availability."""
    return availability_trainer_list(viewer=viewer).get(pk=pk)


def availability_list(*, trainer: Trainer) -> QuerySet[Availability]:
    return Availability.objects.filter(trainer=trainer).order_by("weekday", "start_time", "pk")


def availability_exception_list(*, trainer: Trainer) -> QuerySet[AvailabilityException]:
    return AvailabilityException.objects.filter(trainer=trainer).order_by("starts_at", "pk")
