"""Reads of automations with their rules: rules and run logs for owners and managers; tasks
for staff (managers see all, others their own and those of nobody in particular)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.automations.models import Rule, Run, StaffTask
from apps.tenants.selectors import gym_today

STAFF_ROLES = (Role.OWNER, Role.MANAGER, Role.TRAINER, Role.FRONT_DESK)


def can_manage_automations(user: User) -> bool:
    return is_management(user)


def rule_list(*, viewer: User) -> QuerySet[Rule]:
    """The gym's rules with how many times each ran: one query."""
    if not can_manage_automations(viewer):
        return Rule.objects.none()
    return Rule.objects.annotate(run_count=Count("runs"))


def rule_get(*, viewer: User, pk: int) -> Rule:
    """Raises Rule.DoesNotExist for a rule the viewer may not see."""
    return rule_list(viewer=viewer).get(pk=pk)


def run_list(*, viewer: User, rule: Rule) -> QuerySet[Run]:
    """A rule's runs, newest first, with the client or lead each was about."""
    if not can_manage_automations(viewer):
        return Run.objects.none()
    return (
        Run.objects.filter(rule=rule)
        .select_related("client", "lead")
        .order_by("-created_at", "-pk")
    )


def can_see_tasks(user: User) -> bool:
    return has_role(user, *STAFF_ROLES)


def task_list(*, viewer: User) -> QuerySet[StaffTask]:
    """The tasks the viewer sees: all for owners and managers; their own and unassigned ones
    for other staff; none for clients. Soonest due first, undated last."""
    if not can_see_tasks(viewer):
        return StaffTask.objects.none()
    tasks = StaffTask.objects.select_related("client", "lead", "assignee")
    if not is_management(viewer):
        tasks = tasks.filter(Q(assignee=viewer) | Q(assignee__isnull=True))
    return tasks.order_by("done_at", "due_on", "pk")


def can_change_task(*, viewer: User, task: StaffTask) -> bool:
    if is_management(viewer):
        return True
    return can_see_tasks(viewer) and task.assignee_id in (None, viewer.pk)


def tasks_for_today(*, viewer: User, today: date | None = None, limit: int = 8) -> list[StaffTask]:
    """The viewer's open tasks due within a week or overdue (then undated ones), for the
    dashboard's Today page: their own, and those of nobody in particular. One query."""
    if not can_see_tasks(viewer):
        return []
    today = today or gym_today()
    tasks = (
        StaffTask.objects.filter(done_at__isnull=True)
        .filter(Q(assignee=viewer) | Q(assignee__isnull=True))
        .filter(Q(due_on__lte=today + timedelta(days=7)) | Q(due_on__isnull=True))
        .select_related("client", "lead", "assignee")
        .order_by("due_on", "pk")
    )
    return list(tasks[:limit])


def staff_choices() -> QuerySet[User]:
    """Who a task can be given to."""
    return User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by(
        "first_name", "last_name", "email"
    )
