"""Automation pages: owners and managers list, write, switch and delete rules, add ready-made
ones and read each rule's run log in a bounded number of queries; other roles are refused;
staff keep a to-do list (Today shows theirs); gym B cannot reach gym A's rules or tasks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.automations import services
from apps.automations.models import Rule, Run, StaffTask, Trigger
from tests.automations.conftest import make_rule, tag_step
from tests.conftest import GymClient
from tests.crm.conftest import CrmGym

pytestmark = pytest.mark.django_db


def signed_in(crm: CrmGym, role: str) -> GymClient:
    client = GymClient(crm.gym.subdomain)
    client.force_login(crm.user(role))
    return client


def step_data(prefix: int, **fields: object) -> dict[str, object]:
    base = {"action": "", "delay_days": 0, "delay_hours": 0, "due_days": 0}
    base.update(fields)
    return {f"steps-{prefix}-{name}": value for name, value in base.items()}


def rule_post(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Welcome",
        "trigger": Trigger.CLIENT_CREATED,
        "steps-TOTAL_FORMS": 2,
        "steps-INITIAL_FORMS": 0,
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 10,
        **step_data(0, action="email", subject="Hi {{ first_name }}", body="Welcome!"),
        **step_data(1, action="add_tag", tag="new", delay_days=2),
    }
    data.update(extra)
    return data


class TestRulePages:
    def test_owner_writes_a_rule_and_switches_it_on(self, crm_a: CrmGym) -> None:
        owner = signed_in(crm_a, "owner")
        response = owner.post("/automations/new/", rule_post())
        assert response.status_code == 302
        with tenant_context(crm_a.gym):
            rule = Rule.objects.get(name="Welcome")
            assert not rule.enabled
            assert [s["action"] for s in rule.steps] == ["email", "add_tag"]
            assert rule.steps[1]["delay_minutes"] == 2 * 24 * 60
        page = owner.get("/automations/")
        assert page.status_code == 200
        assert "Welcome" in page.content.decode()
        owner.post(f"/automations/{rule.pk}/switch/", {"enabled": "on"})
        with tenant_context(crm_a.gym):
            rule.refresh_from_db()
            assert rule.enabled
        edit = owner.get(f"/automations/{rule.pk}/")
        assert edit.status_code == 200
        assert "Hi {{ first_name }}" in edit.content.decode()

    def test_conditions_from_the_form_are_a_segment_definition(self, crm_a: CrmGym) -> None:
        owner = signed_in(crm_a, "owner")
        response = owner.post(
            "/automations/new/",
            rule_post(status=["active", "trial"], tags="VIP, morning", trainer=crm_a.tina.pk),
        )
        assert response.status_code == 302
        with tenant_context(crm_a.gym):
            rule = Rule.objects.get(name="Welcome")
            assert rule.conditions == {
                "status": ["active", "trial"],
                "tags": ["morning", "vip"],
                "trainer": crm_a.tina.pk,
            }
        assert "trained by Tina Trainer" in owner.get("/automations/").content.decode()

    def test_an_unknown_placeholder_is_shown_on_the_form(self, crm_a: CrmGym) -> None:
        owner = signed_in(crm_a, "owner")
        response = owner.post(
            "/automations/new/",
            rule_post(**step_data(0, action="email", subject="Hi", body="Yo {{ nick }}")),
        )
        assert response.status_code == 200
        assert "nick" in response.content.decode()
        with tenant_context(crm_a.gym):
            assert not Rule.objects.exists()

    def test_a_ready_made_rule_is_added_paused(self, crm_a: CrmGym) -> None:
        owner = signed_in(crm_a, "owner")
        assert owner.post("/automations/ready-made/", {"preset": "birthday"}).status_code == 302
        assert owner.post("/automations/ready-made/", {"preset": "nope"}).status_code == 302
        with tenant_context(crm_a.gym):
            rule = Rule.objects.get()
            assert rule.preset == "birthday"
            assert not rule.enabled

    def test_the_run_log_reads_in_bounded_queries(
        self, crm_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        with tenant_context(crm_a.gym):
            rule = make_rule(crm_a, Trigger.BIRTHDAY, [tag_step()])
            for client in (crm_a.ann, crm_a.bob, crm_a.cara):
                Run.objects.create(rule=rule, occurrence_key=f"x:{client.pk}", client=client)
        owner = signed_in(crm_a, "owner")
        owner.get(f"/automations/{rule.pk}/runs/")
        with CaptureQueriesContext(connection) as few:
            assert owner.get(f"/automations/{rule.pk}/runs/").status_code == 200
        with tenant_context(crm_a.gym):
            for index in range(30):
                Run.objects.create(rule=rule, occurrence_key=f"y:{index}", client=crm_a.ann)
        with CaptureQueriesContext(connection) as many:
            response = owner.get(f"/automations/{rule.pk}/runs/")
        assert response.status_code == 200
        assert len(many.captured_queries) == len(few.captured_queries)

    def test_the_rule_list_reads_in_bounded_queries(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            make_rule(crm_a, Trigger.BIRTHDAY, [tag_step()])
        owner = signed_in(crm_a, "owner")
        owner.get("/automations/")
        with CaptureQueriesContext(connection) as few:
            owner.get("/automations/")
        with tenant_context(crm_a.gym):
            for index in range(10):
                make_rule(crm_a, Trigger.BIRTHDAY, [tag_step()], name=f"Rule {index}")
        with CaptureQueriesContext(connection) as many:
            owner.get("/automations/")
        assert len(many.captured_queries) == len(few.captured_queries)

    @pytest.mark.parametrize("role", ["tina", "desk", "cara"])
    def test_other_roles_are_refused(self, crm_a: CrmGym, role: str) -> None:
        with tenant_context(crm_a.gym):
            rule = make_rule(crm_a, Trigger.BIRTHDAY, [tag_step()])
        person = signed_in(crm_a, role)
        for path in ("/automations/", f"/automations/{rule.pk}/", f"/automations/{rule.pk}/runs/"):
            assert person.get(path).status_code == 403
        assert person.post(f"/automations/{rule.pk}/switch/", {"enabled": "off"}).status_code == 403
        with tenant_context(crm_a.gym):
            rule.refresh_from_db()
            assert rule.enabled

    def test_gym_b_cannot_reach_gym_a_rules(self, crm_a: CrmGym, crm_b: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            rule = make_rule(crm_a, Trigger.BIRTHDAY, [tag_step()])
        owner_b = signed_in(crm_b, "owner")
        assert owner_b.get(f"/automations/{rule.pk}/").status_code == 404
        assert owner_b.get(f"/automations/{rule.pk}/runs/").status_code == 404
        assert owner_b.post(f"/automations/{rule.pk}/delete/").status_code == 404
        # Gym A's session on gym B's host is no session there.
        owner_a = signed_in(crm_a, "owner")
        owner_a.defaults["HTTP_HOST"] = f"{crm_b.gym.subdomain}.localhost"
        assert owner_a.get("/automations/").status_code in (302, 403)
        with tenant_context(crm_a.gym):
            assert Rule.objects.filter(pk=rule.pk).exists()


class TestTasks:
    def test_staff_add_and_tick_off_tasks(self, crm_a: CrmGym) -> None:
        tina = signed_in(crm_a, "tina")
        response = tina.post("/tasks/", {"title": "Call Ann", "due_on": "", "assignee": ""})
        assert response.status_code == 302
        with tenant_context(crm_a.gym):
            task = StaffTask.objects.get(title="Call Ann")
        assert "Call Ann" in tina.get("/tasks/").content.decode()
        assert "Call Ann" in tina.get("/").content.decode()
        tina.post(f"/tasks/{task.pk}/done/", {"done": "on", "next": "/"})
        with tenant_context(crm_a.gym):
            task.refresh_from_db()
            assert task.done_at is not None

    def test_a_task_about_a_client_from_their_page(self, crm_a: CrmGym) -> None:
        tina = signed_in(crm_a, "tina")
        page = tina.get(f"/tasks/?client={crm_a.ann.pk}")
        assert "About Ann Able" in page.content.decode()
        tina.post("/tasks/", {"title": "Ask Ann about her knee", "client": crm_a.ann.pk})
        # Bob is not Tina's client: the task is made, about nobody.
        tina.post("/tasks/", {"title": "Ask Bob", "client": crm_a.bob.pk})
        with tenant_context(crm_a.gym):
            assert StaffTask.objects.get(title="Ask Ann about her knee").client == crm_a.ann
            assert StaffTask.objects.get(title="Ask Bob").client is None

    def test_a_trainer_cannot_give_tasks_to_others_or_touch_theirs(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            theirs = services.task_create(
                actor=crm_a.owner, title="Manager's own", assignee=crm_a.manager
            )
        tina = signed_in(crm_a, "tina")
        response = tina.post("/tasks/", {"title": "For Tom", "assignee": str(crm_a.tom.user.pk)})
        assert response.status_code == 200
        assert tina.post(f"/tasks/{theirs.pk}/done/").status_code == 404
        assert "Manager&#x27;s own" not in tina.get("/tasks/").content.decode()

    def test_the_task_list_reads_in_bounded_queries(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            services.task_create(actor=crm_a.owner, title="One", client=crm_a.ann)
        owner = signed_in(crm_a, "owner")
        owner.get("/tasks/")
        with CaptureQueriesContext(connection) as few:
            owner.get("/tasks/")
        with tenant_context(crm_a.gym):
            for index in range(15):
                services.task_create(
                    actor=crm_a.owner, title=f"T{index}", client=crm_a.bob, assignee=crm_a.manager
                )
        with CaptureQueriesContext(connection) as many:
            owner.get("/tasks/")
        assert len(many.captured_queries) == len(few.captured_queries)

    def test_clients_have_no_tasks_and_gym_b_sees_none_of_a(
        self, crm_a: CrmGym, crm_b: CrmGym
    ) -> None:
        with tenant_context(crm_a.gym):
            task = services.task_create(actor=crm_a.owner, title="Secret A task")
        assert signed_in(crm_a, "cara").get("/tasks/").status_code == 403
        owner_b = signed_in(crm_b, "owner")
        assert "Secret A task" not in owner_b.get("/tasks/").content.decode()
        assert owner_b.post(f"/tasks/{task.pk}/done/").status_code == 404
