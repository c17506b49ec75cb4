"""Scheduling in the gym's back office (/admin/): owners and managers only, like the CRM's admin
(apps.crm.admin.GymAdmin). Reads go through the selectors where they hold rules; every write that
has a service goes through it (booking, status changes, check-in, class edits, strikes, the
policy, locations, rooms, availability), so the admin applies the same rules and leaves the same
audit events. What has no service (class types, a new series) is saved as it is.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import construct_instance
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.backoffice import GymAdmin, action_page
from apps.scheduling.appointments import selectors, services
from apps.scheduling.classes import services as class_services
from apps.scheduling.gym_settings import services as setup_services
from apps.scheduling.models import (
    Appointment,
    Availability,
    AvailabilityException,
    ClassBooking,
    ClassOccurrence,
    ClassSeries,
    ClassType,
    Location,
    PolicySettings,
    Room,
    Strike,
)
from apps.scheduling.policies import selectors as policy_selectors
from apps.scheduling.policies import services as policy_services
from apps.tenants.selectors import gym_today

GENERATE_WEEKS = 8


class _ServiceDeleteAdmin(GymAdmin):
    """Deleting several rows from the list deletes each through delete_model (its service),
    never with one queryset.delete() behind the services' backs."""

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class _NoChangeAdmin(_ServiceDeleteAdmin):
    """Added and deleted through services, never edited in place."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)


# --- Places and hours -------------------------------------------------------------------------


class RoomInline(admin.TabularInline):
    model = Room
    fields = ("name", "capacity")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Location)
class LocationAdmin(_ServiceDeleteAdmin):
    list_display = ("name", "address")
    search_fields = ("name", "address")
    fields = ("name", "address")
    inlines = (RoomInline,)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def save_model(self, request: HttpRequest, obj: Location, form: Any, change: bool) -> None:
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            if fields:
                setup_services.location_update(actor=request.user, location=obj, **fields)
            return
        location = setup_services.location_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            address=form.cleaned_data.get("address", ""),
        )
        obj.pk = location.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Location) -> None:
        setup_services.location_delete(actor=request.user, location=obj)


@admin.register(Room)
class RoomAdmin(_ServiceDeleteAdmin):
    list_display = ("name", "location", "capacity")
    list_filter = ("location",)
    search_fields = ("name", "location__name")
    list_select_related = ("location",)
    fields = ("location", "name", "capacity")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def save_model(self, request: HttpRequest, obj: Room, form: Any, change: bool) -> None:
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            if fields:
                setup_services.room_update(actor=request.user, room=obj, **fields)
            return
        room = setup_services.room_create(
            actor=request.user,
            location=form.cleaned_data["location"],
            name=form.cleaned_data["name"],
            capacity=form.cleaned_data["capacity"],
        )
        obj.pk = room.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Room) -> None:
        setup_services.room_delete(actor=request.user, room=obj)


@admin.register(Availability)
class AvailabilityAdmin(_NoChangeAdmin):
    list_display = ("trainer", "weekday", "start_time", "end_time")
    list_filter = ("weekday", "trainer")
    search_fields = ("trainer__user__first_name", "trainer__user__last_name")
    list_select_related = ("trainer__user",)
    fields = ("trainer", "weekday", "start_time", "end_time")

    def save_model(self, request: HttpRequest, obj: Availability, form: Any, change: bool) -> None:
        window = setup_services.availability_add(
            actor=request.user,
            trainer=form.cleaned_data["trainer"],
            weekday=form.cleaned_data["weekday"],
            start_time=form.cleaned_data["start_time"],
            end_time=form.cleaned_data["end_time"],
        )
        obj.pk = window.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Availability) -> None:
        setup_services.availability_delete(actor=request.user, window=obj)


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(_NoChangeAdmin):
    list_display = ("trainer", "kind", "starts_at", "ends_at")
    list_filter = ("kind", "trainer", ("starts_at", admin.DateFieldListFilter))
    search_fields = ("trainer__user__first_name", "trainer__user__last_name")
    list_select_related = ("trainer__user",)
    fields = ("trainer", "kind", "starts_at", "ends_at")

    def save_model(
        self, request: HttpRequest, obj: AvailabilityException, form: Any, change: bool
    ) -> None:
        exception = setup_services.availability_exception_add(
            actor=request.user,
            trainer=form.cleaned_data["trainer"],
            kind=form.cleaned_data["kind"],
            starts_at=form.cleaned_data["starts_at"],
            ends_at=form.cleaned_data["ends_at"],
        )
        obj.pk = exception.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: AvailabilityException) -> None:
        setup_services.availability_exception_delete(actor=request.user, exception=obj)


# --- 1:1 sessions -----------------------------------------------------------------------------


class AppointmentStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("New status"), choices=Appointment._meta.get_field("status").choices
    )


APPOINTMENT_ADD_FIELDS = (
    "trainer",
    "client",
    "room",
    "starts_at",
    "ends_at",
    "video_link",
    "notes",
)


class AppointmentAddForm(forms.ModelForm):
    class Meta:
        model = Appointment
        fields = APPOINTMENT_ADD_FIELDS

    def _post_clean(self) -> None:
        # appointment_book validates; the model's exclusion constraints cannot be checked here
        # (their condition is on the status, which this form does not have).
        self.instance = construct_instance(self, self.instance, self._meta.fields)


@admin.register(Appointment)
class AppointmentAdmin(GymAdmin):
    """Booked through appointment_book; afterwards only the status changes (through
    appointment_set_status, which also records or waives strikes)."""

    list_display = ("starts_at", "trainer", "client", "room", "status", "checked_in_at")
    list_filter = ("status", "trainer", "room", ("starts_at", admin.DateFieldListFilter))
    search_fields = ("client__first_name", "client__last_name", "client__email")
    date_hierarchy = "starts_at"
    list_select_related = ("trainer__user", "client", "room__location")
    list_per_page = 50
    actions = ("check_in", "set_status")
    add_fields = APPOINTMENT_ADD_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        return selectors.appointment_list(viewer=request.user)  # type: ignore[arg-type]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = AppointmentAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Appointment | None = None) -> Any:
        if obj is None:
            return self.add_fields
        return (*self.add_fields, "status", "checked_in_at", "created_by", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Appointment | None = None) -> Any:
        if obj is None:
            return ()
        return self.get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Appointment, form: Any, change: bool) -> None:
        if change:
            return
        data = form.cleaned_data
        appointment = services.appointment_book(
            actor=request.user,  # type: ignore[arg-type]
            trainer=data["trainer"],
            client=data["client"],
            room=data.get("room"),
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            video_link=data.get("video_link", ""),
            notes=data.get("notes", ""),
            override_availability=True,
        )
        obj.pk = appointment.pk
        obj._state.adding = False

    @admin.action(description=gettext_lazy("Check in the selected sessions"))
    def check_in(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        def run() -> str:
            items = list(queryset)
            for appointment in items:
                services.appointment_check_in(
                    actor=request.user,  # type: ignore[arg-type]
                    appointment=appointment,
                )
            return _("%(count)s sessions checked in.") % {"count": len(items)}

        self._run_action(request, run)

    @admin.action(description=gettext_lazy("Change the status of the selected sessions…"))
    def set_status(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> Any:
        form = AppointmentStatusForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            status = form.cleaned_data["status"]

            def run() -> str:
                items = list(queryset)
                for appointment in items:
                    services.appointment_set_status(
                        actor=request.user,  # type: ignore[arg-type]
                        appointment=appointment,
                        status=status,
                    )
                return _("%(count)s sessions changed.") % {"count": len(items)}

            self._run_action(request, run)
            return None
        return action_page(
            self,
            request,
            queryset,
            action="set_status",
            title=_("Change the status"),
            form=form,
        )


# --- Group classes ----------------------------------------------------------------------------


@admin.register(ClassType)
class ClassTypeAdmin(GymAdmin):
    list_display = ("name", "default_capacity", "duration_minutes", "late_cancel_minutes")
    search_fields = ("name",)


@admin.register(ClassSeries)
class ClassSeriesAdmin(GymAdmin):
    """A new series is saved as entered; later changes go through series_update_from (the
    timetable pages), so here an existing series is read-only."""

    list_display = ("class_type", "rrule", "local_start_time", "trainer", "starts_on", "ends_on")
    list_filter = ("class_type", "trainer")
    search_fields = ("class_type__name", "rrule")
    list_select_related = ("class_type", "trainer__user", "room")
    actions = ("generate",)
    fields = (
        "class_type",
        "trainer",
        "room",
        "capacity",
        "local_start_time",
        "duration_minutes",
        "rrule",
        "starts_on",
        "ends_on",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: ClassSeries | None = None) -> Any:
        return self.fields if obj is not None else ()

    @admin.action(
        description=gettext_lazy("Generate the classes of the next %(weeks)s weeks")
        % {"weeks": GENERATE_WEEKS}
    )
    def generate(self, request: HttpRequest, queryset: QuerySet[ClassSeries]) -> None:
        until = gym_today() + timedelta(weeks=GENERATE_WEEKS)

        def run() -> str:
            created = 0
            for series in queryset:
                created += len(
                    class_services.series_generate_occurrences(
                        series=series,
                        until=until,
                        actor=request.user,  # type: ignore[arg-type]
                    )
                )
            return _("%(count)s classes created.") % {"count": created}

        self._run_action(request, run)


class ClassBookingInline(admin.TabularInline):
    model = ClassBooking
    fields = ("client", "status", "waitlist_position", "created_at", "checked_in_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClassBooking]:
        return super().get_queryset(request).select_related("client")


@admin.register(ClassOccurrence)
class ClassOccurrenceAdmin(GymAdmin):
    """One class: edited through occurrence_update (which keeps capacity and the waitlist
    right); its bookings are shown, changed from the bookings' own admin."""

    list_display = ("starts_at", "class_type", "trainer", "room", "capacity", "is_cancelled")
    list_filter = (
        "class_type",
        "trainer",
        "is_cancelled",
        ("starts_at", admin.DateFieldListFilter),
    )
    search_fields = ("class_type__name",)
    date_hierarchy = "starts_at"
    list_select_related = ("class_type", "trainer__user", "room__location")
    fields = (
        "class_type",
        "series",
        "starts_at",
        "ends_at",
        "trainer",
        "room",
        "capacity",
        "is_cancelled",
    )
    inlines = (ClassBookingInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("class_type", "series")

    def save_model(
        self, request: HttpRequest, obj: ClassOccurrence, form: Any, change: bool
    ) -> None:
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in class_services.OCCURRENCE_FIELDS
        }
        if fields:
            original = ClassOccurrence.objects.get(pk=obj.pk)
            class_services.occurrence_update(
                actor=request.user,  # type: ignore[arg-type]
                occurrence=original,
                **fields,
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        return None


@admin.register(ClassBooking)
class ClassBookingAdmin(GymAdmin):
    """Bookings are made by clients and staff in the app; here they are checked in, marked as
    no-shows or cancelled, each through its service."""

    list_display = ("occurrence", "client", "status", "waitlist_position", "checked_in_at")
    list_filter = ("status", "occurrence__class_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("client__first_name", "client__last_name", "client__email")
    list_select_related = ("occurrence__class_type", "client")
    readonly_fields = (
        "occurrence",
        "client",
        "status",
        "waitlist_position",
        "created_at",
        "checked_in_at",
    )
    fields = readonly_fields
    actions = ("check_in", "mark_no_show", "cancel")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _each(self, request: HttpRequest, queryset: QuerySet[ClassBooking], service: Any) -> None:
        def run() -> str:
            items = list(queryset.order_by("occurrence_id", "pk"))
            for booking in items:
                service(actor=request.user, booking=booking)
            return _("%(count)s bookings changed.") % {"count": len(items)}

        self._run_action(request, run)

    @admin.action(description=gettext_lazy("Check in the selected bookings"))
    def check_in(self, request: HttpRequest, queryset: QuerySet[ClassBooking]) -> None:
        self._each(request, queryset, class_services.class_check_in)

    @admin.action(description=gettext_lazy("Mark the selected bookings as no-shows"))
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[ClassBooking]) -> None:
        self._each(request, queryset, class_services.booking_mark_no_show)

    @admin.action(description=gettext_lazy("Cancel the selected bookings"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[ClassBooking]) -> None:
        self._each(request, queryset, class_services.class_cancel)


# --- Policy -----------------------------------------------------------------------------------


class WaivedFilter(admin.SimpleListFilter):
    title = gettext_lazy("waived")
    parameter_name = "waived"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Strike]) -> QuerySet[Strike]:
        if self.value() == "yes":
            return queryset.filter(waived_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(waived_at__isnull=True)
        return queryset


class WaiveReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


@admin.register(Strike)
class StrikeAdmin(GymAdmin):
    """Recorded by the services that set late cancels and no-shows; here only waived."""

    list_display = ("occurred_at", "client", "kind", "waived_at", "waived_by")
    list_filter = ("kind", WaivedFilter, ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("client__first_name", "client__last_name", "client__email")
    list_select_related = ("client", "waived_by")
    readonly_fields = (
        "client",
        "kind",
        "appointment",
        "class_booking",
        "occurred_at",
        "waived_at",
        "waived_by",
        "waive_reason",
    )
    fields = readonly_fields
    actions = ("waive",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Strike]:
        return policy_selectors.strike_list(viewer=request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=gettext_lazy("Waive the selected strikes…"))
    def waive(self, request: HttpRequest, queryset: QuerySet[Strike]) -> Any:
        form = WaiveReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]

            def run() -> str:
                items = list(queryset.order_by("pk"))
                for strike in items:
                    policy_services.strike_waive(
                        actor=request.user,  # type: ignore[arg-type]
                        strike=strike,
                        reason=reason,
                    )
                return _("%(count)s strikes waived.") % {"count": len(items)}

            self._run_action(request, run)
            return None
        return action_page(
            self, request, queryset, action="waive", title=_("Waive strikes"), form=form
        )


@admin.register(PolicySettings)
class PolicySettingsAdmin(GymAdmin):
    list_display = ("__str__", "strike_limit", "window_days", "block_days")
    fields = ("strike_limit", "window_days", "block_days", "appointment_late_cancel_hours")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and not PolicySettings.objects.exists()

    def save_model(
        self, request: HttpRequest, obj: PolicySettings, form: Any, change: bool
    ) -> None:
        policy = policy_services.policy_update(
            actor=request.user,  # type: ignore[arg-type]
            **{name: form.cleaned_data[name] for name in self.fields},
        )
        obj.pk = policy.pk
        obj._state.adding = False
