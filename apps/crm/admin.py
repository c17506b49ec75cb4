"""The gym's back office (/admin/ on the gym's host): owners and managers only, with two-factor
authentication (MfaRequiredMiddleware). The admin is a thin layer like the views:

- reads go through the selectors (`client_list`, `note_list`, …), so the admin never shows more
  than the app would to the same person;
- every write goes through a service (`client_create`, `client_update`, `assignment_create`,
  `note_update`, …), so the admin applies the same rules and leaves the same audit events.
  Where no service exists for a change (editing a consent, deleting a trainer), the admin does
  not offer it: consents and ended assignments are history, trainers are deactivated.

A service error the form could not foresee (a concurrent change) rolls the whole save back and
comes back as a message on the page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import F, Func, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.roles import HEALTH_DATA_ROLES, has_role, is_management
from apps.audit.services import audit_record
from apps.core.backoffice import GymAdmin, action_page
from apps.crm import services
from apps.crm.models import (
    Assignment,
    Certification,
    Client,
    ClientStatus,
    Consent,
    Lead,
    LeadStatus,
    Note,
    Trainer,
)
from apps.crm.parq import parq_answers_clean
from apps.crm.phones import PHONE_FIELDS, normalise_phone
from apps.crm.selectors import (
    assignment_list,
    can_see_health_data,
    certifications_expiring,
    client_filter,
    client_list,
    client_search_q,
    lead_list,
    note_list,
    trainer_list,
)

CLIENT_EDITABLE = (*services.CLIENT_PROFILE_FIELDS, *services.CLIENT_HEALTH_FIELDS)


class CrmAdminForm(forms.ModelForm):
    """Phone numbers and PAR-Q answers checked by apps.crm's own rules while the form is
    validated, so a bad one is an error on its field (the service checks them again)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in PHONE_FIELDS:
            if name in self.fields and isinstance(cleaned.get(name), str):
                try:
                    cleaned[name] = normalise_phone(cleaned[name], field=name)
                except ValidationError as exc:
                    self.add_error(None, exc)
        if "parq_answers" in self.fields and "parq_answers" in cleaned:
            try:
                cleaned["parq_answers"] = parq_answers_clean(cleaned["parq_answers"])
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


def _read_only_inline(inline: type[admin.TabularInline]) -> type[admin.TabularInline]:
    """History shown in place: never added, changed or deleted from the parent's page."""

    def no(self: Any, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def view(self: Any, request: HttpRequest, obj: Any = None) -> bool:
        return is_management(request.user)

    inline.has_add_permission = no  # type: ignore[method-assign]
    inline.has_change_permission = no  # type: ignore[method-assign]
    inline.has_delete_permission = no  # type: ignore[method-assign]
    inline.has_view_permission = view  # type: ignore[method-assign]
    inline.extra = 0
    inline.can_delete = False
    return inline


# --- Clients --------------------------------------------------------------------------------


class CurrentTrainerFilter(admin.SimpleListFilter):
    title = gettext_lazy("trainer")
    parameter_name = "trainer"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        trainers = trainer_list(viewer=request.user).prefetch_related(None)  # type: ignore[arg-type]
        return [(str(trainer.pk), str(trainer)) for trainer in trainers]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Client]) -> QuerySet[Client]:
        return client_filter(queryset, {"trainer": self.value()})


class TagFilter(admin.SimpleListFilter):
    title = gettext_lazy("tag")
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        tags = (
            client_list(viewer=request.user)  # type: ignore[arg-type]
            .prefetch_related(None)
            .annotate(tag=Func(F("tags"), function="unnest"))
            .order_by("tag")
            .values_list("tag", flat=True)
            .distinct()
        )
        return [(tag, tag) for tag in tags]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Client]) -> QuerySet[Client]:
        return client_filter(queryset, {"tag": self.value()})


class ConsentInline(admin.TabularInline):
    model = Consent
    fields = ("kind", "granted", "recorded_at", "recorded_by")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Consent]:
        return super().get_queryset(request).select_related("recorded_by")


class AssignmentInline(admin.TabularInline):
    model = Assignment
    fields = ("trainer", "is_primary", "starts_on", "ends_on")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        return super().get_queryset(request).select_related("trainer__user")


_read_only_inline(ConsentInline)
_read_only_inline(AssignmentInline)


class AssignTrainerForm(forms.Form):
    trainer = forms.ModelChoiceField(label=gettext_lazy("Trainer"), queryset=Trainer.objects.none())
    is_primary = forms.BooleanField(
        label=gettext_lazy("Make them the primary trainer"), required=False
    )

    def __init__(self, *args: Any, trainers: QuerySet[Trainer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trainer"].queryset = trainers  # type: ignore[attr-defined]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("New status"), choices=ClientStatus.choices)


@admin.register(Client)
class ClientAdmin(GymAdmin):
    list_display = (
        "name",
        "email",
        "phone",
        "status",
        "trainer_names",
        "tag_list",
        "joined_on",
    )
    list_display_links = ("name",)
    list_filter = (
        "status",
        CurrentTrainerFilter,
        TagFilter,
        ("joined_on", admin.DateFieldListFilter),
    )
    search_fields = ("first_name", "last_name", "email", "phone")
    # Trainers come prefetched by client_list; nothing else on a row needs a join.
    list_select_related = ()
    list_per_page = 50
    readonly_fields = ("user", "created_at", "updated_at")
    form = CrmAdminForm
    inlines = (AssignmentInline, ConsentInline)
    actions = ("assign_trainer", "change_status", "export_csv")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return client_list(viewer=request.user)  # type: ignore[arg-type]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Client], search_term: str
    ) -> tuple[QuerySet[Client], bool]:
        # Phone numbers are stored in E.164: also match the digits as people type them.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            results = results | queryset.filter(client_search_q(search_term.strip()))
        return results, may_have_duplicates

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def _sees_health(self, request: HttpRequest, obj: Client | None) -> bool:
        if obj is None:
            # A new client: the roles that may record health data (as client_create decides).
            return has_role(request.user, *HEALTH_DATA_ROLES)
        return can_see_health_data(viewer=request.user, client=obj)  # type: ignore[arg-type]

    def get_fieldsets(self, request: HttpRequest, obj: Client | None = None) -> Any:
        fieldsets: list[tuple[Any, dict[str, Any]]] = [
            (
                _("Contact"),
                {
                    "fields": (
                        ("first_name", "last_name"),
                        ("email", "phone"),
                        "date_of_birth",
                        ("emergency_contact_name", "emergency_contact_phone"),
                    )
                },
            ),
            (
                _("Membership"),
                {
                    "fields": (
                        "status",
                        "tags",
                        "source",
                        ("joined_on", "churned_on"),
                        ("notify_by_email", "notify_by_sms"),
                        "goals",
                    )
                },
            ),
        ]
        if self._sees_health(request, obj):
            fieldsets.append(
                (
                    _("Health"),
                    {
                        "fields": ("health_notes", "parq_answers"),
                        "description": _(
                            "Health data: encrypted, and seen only by managers "
                            "and the client's trainers."
                        ),
                    },
                )
            )
        if obj is not None:
            fieldsets.append((_("Record"), {"fields": ("user", "created_at", "updated_at")}))
        return fieldsets

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        editable = [name for name in CLIENT_EDITABLE if name in form.cleaned_data]
        if change:
            fields = {
                name: form.cleaned_data[name] for name in editable if name in form.changed_data
            }
            if fields:
                services.client_update(actor=request.user, client=obj, **fields)  # type: ignore[arg-type]
            return
        fields = {name: form.cleaned_data[name] for name in editable}
        client = services.client_create(actor=request.user, **fields)  # type: ignore[arg-type]
        # The admin carries on with the form's instance (its log entry, its redirect).
        obj.pk = client.pk
        obj._state.adding = False

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Assignments, consents and notes go with the client (client_delete decides what may
        # be deleted); they are not deleted one by one, so their own admin's rule is moot.
        deleted, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, set(), protected

    def delete_model(self, request: HttpRequest, obj: Client) -> None:
        services.client_delete(actor=request.user, client=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            self.delete_model(request, client)

    @admin.display(description=gettext_lazy("name"), ordering="last_name")
    def name(self, obj: Client) -> str:
        return obj.full_name

    @admin.display(description=gettext_lazy("trainers"))
    def trainer_names(self, obj: Client) -> str:
        assignments = getattr(obj, "current_assignments", [])
        return ", ".join(
            f"{a.trainer}{' ★' if a.is_primary else ''}"
            for a in sorted(assignments, key=lambda a: (not a.is_primary, str(a.trainer)))
        )

    @admin.display(description=gettext_lazy("tags"))
    def tag_list(self, obj: Client) -> str:
        return ", ".join(obj.tags)

    @admin.action(description=gettext_lazy("Assign a trainer to the selected clients…"))
    def assign_trainer(self, request: HttpRequest, queryset: QuerySet[Client]) -> Any:
        trainers = trainer_list(viewer=request.user).filter(is_active=True).prefetch_related(None)  # type: ignore[arg-type]
        form = AssignTrainerForm(
            request.POST if "apply" in request.POST else None, trainers=trainers
        )
        if form.is_bound and form.is_valid():
            trainer, is_primary = form.cleaned_data["trainer"], form.cleaned_data["is_primary"]

            def assign() -> str:
                clients = list(queryset)
                for client in clients:
                    services.assignment_create(
                        actor=request.user,  # type: ignore[arg-type]
                        client=client,
                        trainer=trainer,
                        is_primary=is_primary,
                    )
                return _("%(trainer)s now coaches %(count)s clients.") % {
                    "trainer": trainer,
                    "count": len(clients),
                }

            self._run_action(request, assign)
            return None
        return action_page(
            self,
            request,
            queryset,
            action="assign_trainer",
            title=_("Assign a trainer"),
            form=form,
        )

    @admin.action(description=gettext_lazy("Change the status of the selected clients…"))
    def change_status(self, request: HttpRequest, queryset: QuerySet[Client]) -> Any:
        form = StatusForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            status = form.cleaned_data["status"]

            def change() -> str:
                changed = services.client_status_set(
                    actor=request.user,  # type: ignore[arg-type]
                    clients=list(queryset),
                    status=status,
                )
                return _("%(count)s clients changed to %(status)s.") % {
                    "count": changed,
                    "status": ClientStatus(status).label,
                }

            self._run_action(request, change)
            return None
        return action_page(
            self,
            request,
            queryset,
            action="change_status",
            title=_("Change the status"),
            form=form,
        )

    @admin.action(description=gettext_lazy("Export the selected clients as CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponse:
        from apps.imports.exports import client_csv_response

        audit_record(
            action="clients.exported",
            actor=request.user,
            changes={"filters": {"before": None, "after": {"admin_selection": True}}},
        )
        return client_csv_response(queryset)


# --- Trainers -------------------------------------------------------------------------------


class ExpiringCertificationFilter(admin.SimpleListFilter):
    title = gettext_lazy("certifications")
    parameter_name = "certification"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("expiring", _("Expiring within 30 days or expired"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Trainer]) -> QuerySet[Trainer]:
        if self.value() == "expiring":
            return queryset.filter(pk__in=certifications_expiring().values("trainer_id"))
        return queryset


class CertificationInline(admin.TabularInline):
    """The trainer's certifications: removed here, never edited (add the renewed one)."""

    model = Certification
    fields = ("name", "issuer", "issued_on", "expires_on")
    readonly_fields = fields
    extra = 0
    verbose_name_plural = gettext_lazy("certifications")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_management(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_management(request.user)


class NewCertificationInline(admin.TabularInline):
    model = Certification
    fields = ("name", "issuer", "issued_on", "expires_on")
    extra = 1
    verbose_name = gettext_lazy("new certification")
    verbose_name_plural = gettext_lazy("add certifications")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Certification]:
        return Certification.objects.none()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_management(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_management(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TrainerAddForm(forms.ModelForm):
    """A new trainer: an existing staff account by email, or a new account (trainer_create)."""

    email = forms.EmailField(label=gettext_lazy("Email"))
    first_name = forms.CharField(label=gettext_lazy("First name"), required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), required=False)

    class Meta:
        model = Trainer
        fields = services.TRAINER_FIELDS


@admin.register(Trainer)
class TrainerAdmin(GymAdmin):
    list_display = (
        "name",
        "email",
        "specialty_list",
        "hourly_rate",
        "is_active",
        "next_expiry",
    )
    list_filter = ("is_active", ExpiringCertificationFilter)
    search_fields = ("user__first_name", "user__last_name", "user__email")
    list_select_related = ("user",)
    inlines = (CertificationInline, NewCertificationInline)
    actions = ("deactivate",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Trainer]:
        return trainer_list(viewer=request.user)  # type: ignore[arg-type]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = TrainerAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Trainer | None = None) -> Any:
        profile = (
            "bio",
            "specialties",
            ("hourly_rate", "currency"),
            "calendar_colour",
            "is_active",
        )
        if obj is None:
            return [
                (_("Account"), {"fields": ("email", ("first_name", "last_name"))}),
                (_("Profile"), {"fields": profile}),
            ]
        return [(_("Account"), {"fields": ("user",)}), (_("Profile"), {"fields": profile})]

    def get_readonly_fields(self, request: HttpRequest, obj: Trainer | None = None) -> Any:
        return ("user",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Trainer, form: Any, change: bool) -> None:
        profile = {
            name: form.cleaned_data[name]
            for name in services.TRAINER_FIELDS
            if name in form.cleaned_data
        }
        if change:
            fields = {name: value for name, value in profile.items() if name in form.changed_data}
            if fields:
                services.trainer_update(actor=request.user, trainer=obj, **fields)  # type: ignore[arg-type]
            return
        trainer = services.trainer_create(
            actor=request.user,  # type: ignore[arg-type]
            email=form.cleaned_data["email"],
            first_name=form.cleaned_data.get("first_name", ""),
            last_name=form.cleaned_data.get("last_name", ""),
            **profile,
        )
        obj.pk, obj.user_id = trainer.pk, trainer.user_id
        obj._state.adding = False

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        formset.save(commit=False)  # sorts the forms into new and deleted objects, saves nothing
        for certification in formset.deleted_objects:
            services.certification_delete(
                actor=request.user,  # type: ignore[arg-type]
                certification=certification,
            )
        for certification in formset.new_objects:
            services.certification_create(
                actor=request.user,  # type: ignore[arg-type]
                trainer=formset.instance,
                name=certification.name,
                issuer=certification.issuer,
                issued_on=certification.issued_on,
                expires_on=certification.expires_on,
            )

    @admin.display(description=gettext_lazy("email"), ordering="user__email")
    def email(self, obj: Trainer) -> str:
        return obj.user.email

    @admin.display(description=gettext_lazy("specialties"))
    def specialty_list(self, obj: Trainer) -> str:
        return ", ".join(obj.specialties)

    @admin.display(description=gettext_lazy("next certification expiry"))
    def next_expiry(self, obj: Trainer) -> Any:
        # Certifications come prefetched by trainer_list.
        dates = [c.expires_on for c in obj.certifications.all() if c.expires_on]
        return min(dates) if dates else None

    @admin.action(description=gettext_lazy("Deactivate the selected trainers"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Trainer]) -> None:
        def deactivate() -> str:
            trainers = [t for t in queryset if t.is_active]
            for trainer in trainers:
                services.trainer_update(
                    actor=request.user,  # type: ignore[arg-type]
                    trainer=trainer,
                    is_active=False,
                )
            return _("%(count)s trainers deactivated.") % {"count": len(trainers)}

        self._run_action(request, deactivate)


# --- Assignments ----------------------------------------------------------------------------


class CurrentAssignmentFilter(admin.SimpleListFilter):
    title = gettext_lazy("current")
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Current")), ("no", _("Ended"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Assignment]) -> Any:
        if self.value() == "yes":
            return queryset.filter(ends_on__isnull=True)
        if self.value() == "no":
            return queryset.filter(ends_on__isnull=False)
        return queryset


class AssignmentTrainerFilter(CurrentTrainerFilter):
    """Assignments of one trainer (the trainers listed in one query, names included)."""

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        return queryset.filter(trainer_id=self.value()) if self.value() else queryset


@admin.register(Assignment)
class AssignmentAdmin(GymAdmin):
    list_display = ("client", "trainer", "is_primary", "starts_on", "ends_on")
    list_filter = (
        CurrentAssignmentFilter,
        "is_primary",
        AssignmentTrainerFilter,
        ("starts_on", admin.DateFieldListFilter),
    )
    search_fields = (
        "client__first_name",
        "client__last_name",
        "client__email",
        "trainer__user__first_name",
        "trainer__user__last_name",
    )
    list_select_related = ("client", "trainer__user")
    autocomplete_fields = ("client", "trainer")
    actions = ("end_assignments",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        return assignment_list(viewer=request.user)  # type: ignore[arg-type]

    def get_fields(self, request: HttpRequest, obj: Assignment | None = None) -> Any:
        if obj is None:
            return ("client", "trainer", "is_primary", "starts_on")
        return ("client", "trainer", "is_primary", "starts_on", "ends_on")

    def get_readonly_fields(self, request: HttpRequest, obj: Assignment | None = None) -> Any:
        if obj is None:
            return ()
        # Only ending it is a change; an ended assignment is history.
        fixed = ("client", "trainer", "is_primary", "starts_on")
        return (*fixed, "ends_on") if obj.ends_on else fixed

    def save_model(self, request: HttpRequest, obj: Assignment, form: Any, change: bool) -> None:
        if change:
            if "ends_on" in form.changed_data and form.cleaned_data.get("ends_on"):
                services.assignment_end(
                    actor=request.user,  # type: ignore[arg-type]
                    assignment=obj,
                    ends_on=form.cleaned_data["ends_on"],
                )
            return
        assignment = services.assignment_create(
            actor=request.user,  # type: ignore[arg-type]
            client=form.cleaned_data["client"],
            trainer=form.cleaned_data["trainer"],
            is_primary=form.cleaned_data["is_primary"],
            starts_on=form.cleaned_data["starts_on"],
        )
        obj.pk = assignment.pk
        obj._state.adding = False

    @admin.action(description=gettext_lazy("End the selected assignments today"))
    def end_assignments(self, request: HttpRequest, queryset: QuerySet[Assignment]) -> None:
        def end() -> str:
            current = [a for a in queryset if a.ends_on is None]
            for assignment in current:
                services.assignment_end(actor=request.user, assignment=assignment)  # type: ignore[arg-type]
            return _("%(count)s assignments ended.") % {"count": len(current)}

        self._run_action(request, end)


# --- Notes ----------------------------------------------------------------------------------


@admin.register(Note)
class NoteAdmin(GymAdmin):
    """Notes the person may read in the app (note_list), and nothing else. The list never shows
    a body (health notes are health data; it is also encrypted, so not searchable)."""

    list_display = ("client", "kind", "author", "created_at")
    list_filter = ("kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("client__first_name", "client__last_name", "client__email")
    list_select_related = ("client", "author")
    autocomplete_fields = ("client",)
    readonly_fields = ("author", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Note]:
        return note_list(viewer=request.user)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def get_fields(self, request: HttpRequest, obj: Note | None = None) -> Any:
        if obj is None:
            return ("client", "kind", "body")
        return ("client", "kind", "body", "author", "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Note | None = None) -> Any:
        if obj is None:
            return ()
        return ("client", "kind", "author", "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Note, form: Any, change: bool) -> None:
        if change:
            if "body" in form.changed_data:
                services.note_update(
                    actor=request.user,  # type: ignore[arg-type]
                    note=obj,
                    body=form.cleaned_data["body"],
                )
            return
        note = services.note_create(
            actor=request.user,  # type: ignore[arg-type]
            client=form.cleaned_data["client"],
            kind=form.cleaned_data["kind"],
            body=form.cleaned_data["body"],
        )
        obj.pk = note.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Note) -> None:
        services.note_delete(actor=request.user, note=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Note]) -> None:
        for note in queryset:
            self.delete_model(request, note)


# --- Leads ----------------------------------------------------------------------------------

LEAD_CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "message", "source")


@admin.register(Lead)
class LeadAdmin(GymAdmin):
    list_display = ("__str__", "email", "phone", "source", "status", "created_at", "client")
    list_filter = ("status", "marketing_consent", ("created_at", admin.DateFieldListFilter))
    search_fields = ("first_name", "last_name", "email", "phone")
    list_select_related = ("client",)
    form = CrmAdminForm
    actions = ("convert", "mark_contacted", "mark_lost")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        return lead_list(viewer=request.user)  # type: ignore[arg-type]

    def get_fields(self, request: HttpRequest, obj: Lead | None = None) -> Any:
        if obj is None:
            return (*LEAD_CONTACT_FIELDS, "marketing_consent")
        return (
            *LEAD_CONTACT_FIELDS,
            "marketing_consent",
            "status",
            "client",
            "created_at",
            "converted_at",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> Any:
        if obj is None:
            return ()
        fixed = (*LEAD_CONTACT_FIELDS, "marketing_consent", "client", "created_at", "converted_at")
        # A converted lead is done; others only move between new, contacted and lost.
        return (*fixed, "status") if obj.status == LeadStatus.CONVERTED else fixed

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "status":
            kwargs["choices"] = [c for c in LeadStatus.choices if c[0] != LeadStatus.CONVERTED]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Lead, form: Any, change: bool) -> None:
        if change:
            if "status" in form.changed_data:
                services.lead_update_status(
                    actor=request.user,  # type: ignore[arg-type]
                    lead=obj,
                    status=form.cleaned_data["status"],
                )
            return
        lead = services.lead_capture(
            **{name: form.cleaned_data[name] for name in LEAD_CONTACT_FIELDS},
            marketing_consent=form.cleaned_data["marketing_consent"],
        )
        obj.pk = lead.pk
        obj._state.adding = False

    @admin.action(description=gettext_lazy("Convert the selected leads into clients"))
    def convert(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        def convert() -> str:
            leads = [lead for lead in queryset if lead.status != LeadStatus.CONVERTED]
            for lead in leads:
                services.lead_convert(actor=request.user, lead=lead)  # type: ignore[arg-type]
            return _("%(count)s leads converted into clients.") % {"count": len(leads)}

        self._run_action(request, convert)

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Lead], status: str) -> None:
        def change() -> str:
            leads = [lead for lead in queryset if lead.status not in (status, LeadStatus.CONVERTED)]
            for lead in leads:
                services.lead_update_status(
                    actor=request.user,  # type: ignore[arg-type]
                    lead=lead,
                    status=status,
                )
            return _("%(count)s leads changed to %(status)s.") % {
                "count": len(leads),
                "status": LeadStatus(status).label,
            }

        self._run_action(request, change)

    @admin.action(description=gettext_lazy("Mark the selected leads as contacted"))
    def mark_contacted(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._set_status(request, queryset, LeadStatus.CONTACTED)

    @admin.action(description=gettext_lazy("Mark the selected leads as lost"))
    def mark_lost(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._set_status(request, queryset, LeadStatus.LOST)


# --- Consents -------------------------------------------------------------------------------


@admin.register(Consent)
class ConsentAdmin(GymAdmin):
    """Consents are a history: recorded (consent_record), never edited or deleted."""

    list_display = ("client", "kind", "granted", "recorded_at", "recorded_by")
    list_filter = ("kind", "granted", ("recorded_at", admin.DateFieldListFilter))
    search_fields = ("client__first_name", "client__last_name", "client__email")
    list_select_related = ("client", "recorded_by")
    autocomplete_fields = ("client",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Consent]:
        visible = client_list(viewer=request.user).prefetch_related(None).values("pk")  # type: ignore[arg-type]
        return Consent.objects.filter(client__in=visible)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Consent | None = None) -> Any:
        if obj is None:
            return ("client", "kind", "granted")
        return ("client", "kind", "granted", "recorded_at", "recorded_by")

    def save_model(self, request: HttpRequest, obj: Consent, form: Any, change: bool) -> None:
        consent = services.consent_record(
            actor=request.user,  # type: ignore[arg-type]
            client=form.cleaned_data["client"],
            kind=form.cleaned_data["kind"],
            granted=form.cleaned_data["granted"],
        )
        obj.pk = consent.pk
        obj._state.adding = False
