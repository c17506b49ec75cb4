"""Admin sites: each gym's /admin/ uses Django's default site (its own staff and models); the
public host uses the platform site. Apps that live only in public register on the default site
by themselves, so they are moved to the platform site here."""

from __future__ import annotations

from django.contrib import admin

from apps.accounts.admin import UserAdmin
from apps.accounts.models import User
from apps.tenants.admin import platform_admin


def _move_public_only_models() -> None:
    from django_celery_beat import models as beat

    for model in (
        beat.PeriodicTask,
        beat.IntervalSchedule,
        beat.CrontabSchedule,
        beat.SolarSchedule,
        beat.ClockedSchedule,
    ):
        model_admin = admin.site._registry.get(model)
        if model_admin is not None:
            admin.site.unregister(model)
            platform_admin.register(model, type(model_admin))


_move_public_only_models()
# Platform operators are users of the public schema.
platform_admin.register(User, UserAdmin)
