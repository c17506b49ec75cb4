"""Automation rules, their runs and the staff to-do list. Lean on purpose: every relation here
is repeated in every gym schema (docs/architecture.md, "Footprint per gym"), so a rule's steps
are a JSON list on the rule (always read and written with it, never queried on their own)
rather than a table of their own."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


class Trigger(models.TextChoices):
    LEAD_CREATED = "lead_created", _("A lead is created")
    CLIENT_CREATED = "client_created", _("A client is created")
    TRIAL_ENDING = "trial_ending", _("A trial membership is about to end")
    FIRST_VISIT = "first_visit", _("A client visits for the first time")
    NO_VISIT = "no_visit", _("A client has not visited for a number of days")
    ADHERENCE_DROPPING = "adherence_dropping", _("A client's workout adherence drops")
    BIRTHDAY = "birthday", _("It is a client's birthday")
    CLASS_ATTENDED = "class_attended", _("A client attends their Nth class")
    PAYMENT_FAILED = "payment_failed", _("A membership payment fails")
    MEMBERSHIP_CANCELLED = "membership_cancelled", _("A membership is cancelled")
    RESTING_HEART_RATE_UP = (
        "resting_heart_rate_up",
        _("A client's resting heart rate is up for several days (wearable)"),
    )
    NO_ACTIVITY = "no_activity", _("A client with a wearable has no activity for a week")


class Action(models.TextChoices):
    EMAIL = "email", _("Send an email to the client")
    SMS = "sms", _("Send a text message to the client")
    IN_APP = "in_app", _("Send an in-app message to the client")
    NOTIFY_TRAINER = "notify_trainer", _("Notify the client's trainer")
    CREATE_TASK = "create_task", _("Create a follow-up task")
    ADD_TAG = "add_tag", _("Add a tag")
    REMOVE_TAG = "remove_tag", _("Remove a tag")
    SET_STATUS = "set_status", _("Change the client's status")


class Rule(TimeStampedModel):
    """When `trigger` happens to a client or lead that matches `conditions`, run `steps` in
    order, each after its delay. `threshold` is the trigger's number: days for trial ending
    and no visit, the class count for class attended, beats per minute for a resting heart
    rate that is up."""

    name = models.CharField(_("name"), max_length=120)
    trigger = models.CharField(_("trigger"), max_length=30, choices=Trigger.choices)
    threshold = models.PositiveSmallIntegerField(_("days or count"), null=True, blank=True)
    # A client filter: a segment definition of apps.campaigns ({"status": [...], "tags": [...],
    # "trainer": id, "membership_status": [...], ...}; apps.automations.conditions).
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    # [{"delay_minutes": int, "action": Action, ...action's parameters}], in order
    # (apps.automations.steps).
    steps = models.JSONField(_("steps"), default=list, blank=True)
    enabled = models.BooleanField(_("on"), default=False)
    # When the rule was last switched on: time-based triggers fire only for moments after it,
    # so switching a win-back rule on does not write to every client who ever left.
    enabled_at = models.DateTimeField(null=True, blank=True)
    # The ready-made rule this was created from (apps.automations.presets), if any.
    preset = models.CharField(max_length=30, blank=True)

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ("name", "pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(trigger__in=Trigger.values), name="automations_rule_trigger_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def trigger_text(self) -> str:
        """The trigger in words, with its number ("a client has not visited for 21 days")."""
        n = self.threshold or 0
        if self.trigger == Trigger.TRIAL_ENDING:
            return ngettext(
                "a trial membership ends in %(n)d day", "a trial membership ends in %(n)d days", n
            ) % {"n": n}
        if self.trigger == Trigger.NO_VISIT:
            return ngettext(
                "a client has not visited for %(n)d day",
                "a client has not visited for %(n)d days",
                n,
            ) % {"n": n}
        if self.trigger == Trigger.RESTING_HEART_RATE_UP:
            return ngettext(
                "a client's resting heart rate is %(n)d bpm above their usual for 3 days",
                "a client's resting heart rate is %(n)d bpm above their usual for 3 days",
                n,
            ) % {"n": n}
        if self.trigger == Trigger.CLASS_ATTENDED:
            return gettext("a client attends their class number %(n)d") % {"n": n}
        return str(self.get_trigger_display())


class RunStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    STOPPED = "stopped", _("Stopped")


class Run(models.Model):
    """One occurrence of a rule's trigger: unique per (rule, occurrence key), which is what makes
    each occurrence run once per rule however often it is recorded or scanned. `next_step` is
    the index of the step to run at `due_at`; `log` holds what each step did."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs", db_index=False)
    occurrence_key = models.CharField(max_length=120)
    client = models.ForeignKey(
        "crm.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Leads are rarely deleted: no index of its own for the cascade.
    lead = models.ForeignKey(
        "crm.Lead",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.WAITING)
    next_step = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("automation run")
        verbose_name_plural = _("automation runs")
        ordering = ("-created_at", "-pk")
        constraints = [
            # Also the index the run log per rule reads through.
            models.UniqueConstraint(
                fields=["rule", "occurrence_key"], name="automations_run_once_per_occurrence"
            ),
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="automations_run_status_known"
            ),
        ]
        indexes = [
            # The due-steps scan: only waiting runs are in it.
            models.Index(
                fields=["due_at"],
                condition=Q(status="waiting"),
                name="automations_run_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.occurrence_key}"


class StaffTask(models.Model):
    """A to-do for a member of staff (a follow-up call, say), made by hand or by a rule."""

    title = models.CharField(_("title"), max_length=200)
    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    lead = models.ForeignKey(
        "crm.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    # Nobody: anyone on the team may pick it up.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ("due_on", "pk")
        indexes = [
            # Open tasks by assignee and due date: the Today list and the tasks page. Also the
            # index the assignee's SET_NULL uses.
            models.Index(
                fields=["assignee", "due_on"],
                condition=Q(done_at__isnull=True),
                name="automations_task_open",
            ),
        ]

    def __str__(self) -> str:
        return self.title
