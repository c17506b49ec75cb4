"""The gym's Django admin for the CRM: owners and managers with two-factor only; reads through
the selectors, writes through the services (audit events prove it), flat query counts."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.audit.models import AuditEvent
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
    NoteKind,
    Trainer,
)
from tests.conftest import GymClient, activate_totp, make_user

# The management forms of the read-only inlines on the client page (nothing posted in them).
CLIENT_INLINES = {
    f"{prefix}-{key}": "0"
    for prefix in ("assignments", "consents")
    for key in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")
}


def signed_in(gym, user) -> GymClient:  # type: ignore[no-untyped-def]
    client = GymClient(gym.subdomain)
    client.force_login(user)
    return client


@pytest.fixture
def gym(gym_a, owner_a):  # type: ignore[no-untyped-def]
    with tenant_context(gym_a):
        manager = make_user(Role.MANAGER, "manager@alpha.example")
        activate_totp(owner_a)
        activate_totp(manager)
        tina = services.trainer_create(
            actor=owner_a, email="tina@alpha.example", first_name="Tina", last_name="Trainer"
        )
        tom = services.trainer_create(
            actor=owner_a, email="tom@alpha.example", first_name="Tom", last_name="Trainer"
        )
        ann = services.client_create(
            actor=owner_a,
            first_name="Ann",
            last_name="Able",
            email="ann@example.com",
            tags=["vip"],
            health_notes="Asthma; carries an inhaler.",
        )
        bob = services.client_create(
            actor=owner_a, first_name="Bob", last_name="Baker", email="bob@example.com"
        )
        services.assignment_create(actor=owner_a, client=ann, trainer=tina)
        note = services.note_create(
            actor=owner_a, client=ann, kind=NoteKind.HEALTH, body="Sore left knee since May."
        )
    return {
        "owner": owner_a,
        "manager": manager,
        "tina": tina,
        "tom": tom,
        "ann": ann,
        "bob": bob,
        "note": note,
    }


@pytest.fixture
def admin(gym_a, gym) -> GymClient:
    return signed_in(gym_a, gym["manager"])


def audited(gym_a, action: str, **filters) -> bool:  # type: ignore[no-untyped-def]
    with tenant_context(gym_a):
        return AuditEvent.objects.filter(action=action, **filters).exists()


class TestAccess:
    def test_owners_and_managers_need_two_factor(self, gym_a, owner_a):
        with tenant_context(gym_a):
            manager = make_user(Role.MANAGER, "no-mfa@alpha.example")
        response = signed_in(gym_a, manager).get("/admin/crm/client/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/2fa/totp/activate/")

    def test_managers_see_every_crm_model(self, admin):
        index = admin.get("/admin/").content.decode()
        for model in ("client", "trainer", "assignment", "note", "lead", "consent"):
            assert f"/admin/crm/{model}/" in index

    def test_trainers_and_front_desk_are_not_admin_users(self, gym_a, gym):
        with tenant_context(gym_a):
            trainer = gym["tina"].user
            desk = make_user(Role.FRONT_DESK, "desk@alpha.example")
        response = signed_in(gym_a, trainer).get("/admin/crm/client/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
        # Even if someone ticked "staff status" by mistake, the CRM stays closed to them.
        with tenant_context(gym_a):
            desk.is_staff = True
            desk.save(update_fields=["is_staff"])
        desk_client = signed_in(gym_a, desk)
        for model in ("client", "note", "trainer"):
            assert desk_client.get(f"/admin/crm/{model}/").status_code == 403
        assert "/admin/crm/" not in desk_client.get("/admin/").content.decode()


class TestChangelists:
    @pytest.mark.parametrize(
        "path",
        [
            "/admin/crm/client/?q=ann",
            "/admin/crm/client/?status__exact=active&tag=vip",
            "/admin/crm/client/?joined_on__gte=2020-01-01",
            "/admin/crm/trainer/?q=tina&is_active__exact=1&certification=expiring",
            "/admin/crm/assignment/?current=yes&q=able",
            "/admin/crm/note/?kind__exact=health&q=ann",
            "/admin/crm/lead/?status__exact=new&q=x",
            "/admin/crm/consent/?kind__exact=sms",
        ],
    )
    def test_search_and_filters(self, admin, path):
        assert admin.get(path).status_code == 200

    def test_client_list_shows_trainers_and_filters_by_trainer(self, admin, gym):
        page = admin.get(f"/admin/crm/client/?trainer={gym['tina'].pk}").content.decode()
        assert "Ann" in page
        assert "Tina Trainer ★" in page
        assert "bob@example.com" not in page

    @pytest.mark.parametrize(
        "model", ["client", "trainer", "assignment", "note", "lead", "consent"]
    )
    def test_query_count_does_not_grow_with_the_rows(self, gym_a, gym, admin, model):
        def count() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert admin.get(f"/admin/crm/{model}/").status_code == 200
            return len(captured)

        count()
        few = count()
        owner = gym["owner"]
        with tenant_context(gym_a):
            for number in range(12):
                trainer = services.trainer_create(
                    actor=owner, email=f"t{number}@alpha.example", first_name=f"T{number}"
                )
                services.certification_create(
                    actor=owner, trainer=trainer, name="CPR", expires_on=date(2030, 1, 1)
                )
                client = services.client_create(
                    actor=owner,
                    first_name=f"C{number}",
                    email=f"c{number}@example.com",
                    tags=[f"tag{number}"],
                )
                services.assignment_create(actor=owner, client=client, trainer=trainer)
                services.note_create(actor=owner, client=client, kind="general", body="Hello")
                services.consent_record(actor=owner, client=client, kind="sms", granted=True)
                services.lead_capture(first_name=f"L{number}", email=f"l{number}@example.com")
        assert count() == few


class TestClientWrites:
    def test_adding_a_client_goes_through_client_create(self, gym_a, gym, admin):
        response = admin.post(
            "/admin/crm/client/add/",
            {
                **CLIENT_INLINES,
                "first_name": " Cara ",
                "last_name": "Cole",
                "email": "Cara@Example.COM",
                "status": "trial",
                "tags": "Morning,VIP",
                "joined_on": "2025-01-02",
                "health_notes": "Pregnant",
                "parq_answers": "{}",
                "notify_by_email": "on",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        with tenant_context(gym_a):
            cara = Client.objects.get(email="cara@example.com")  # the service normalised it
        assert (cara.first_name, cara.tags, cara.status) == ("Cara", ["morning", "vip"], "trial")
        assert cara.health_notes == "Pregnant"
        assert audited(gym_a, "client.created", object_id=str(cara.pk), actor=gym["manager"])

    def test_a_duplicate_email_is_a_form_error(self, gym_a, admin):
        response = admin.post(
            "/admin/crm/client/add/",
            {
                **CLIENT_INLINES,
                "first_name": "Ann",
                "email": "ANN@example.com",
                "status": "active",
                "joined_on": "2025-01-02",
                "parq_answers": "{}",
            },
        )
        assert response.status_code == 200
        with tenant_context(gym_a):
            assert Client.objects.filter(first_name="Ann").count() == 1

    def test_changing_a_client_goes_through_client_update(self, gym_a, gym, admin):
        ann = gym["ann"]
        page = admin.get(f"/admin/crm/client/{ann.pk}/change/").content.decode()
        # Managers may see health data: the field is on the page.
        assert 'name="health_notes"' in page
        assert "Asthma" in page
        response = admin.post(
            f"/admin/crm/client/{ann.pk}/change/",
            {
                **CLIENT_INLINES,
                "first_name": "Ann",
                "last_name": "Able",
                "email": "ann@example.com",
                "phone": "+44 7700 900123",
                "status": "paused",
                "tags": "vip",
                "joined_on": ann.joined_on.isoformat(),
                "health_notes": "Asthma; carries an inhaler.",
                "parq_answers": "{}",
                "notify_by_email": "on",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        with tenant_context(gym_a):
            ann.refresh_from_db()
            event = AuditEvent.objects.get(action="client.updated", object_id=str(ann.pk))
        assert (ann.phone, ann.status) == ("+447700900123", "paused")
        assert set(event.changes) == {"phone", "status"}

    def test_a_bad_phone_or_parq_answer_is_an_error_on_its_field(self, gym_a, gym, admin):
        ann = gym["ann"]
        data = {
            **CLIENT_INLINES,
            "first_name": "Ann",
            "last_name": "Able",
            "email": "ann@example.com",
            "phone": "call me maybe",
            "status": "active",
            "tags": "vip",
            "joined_on": ann.joined_on.isoformat(),
            "health_notes": "Asthma; carries an inhaler.",
            "parq_answers": '{"heart": "yes"}',
            "notify_by_email": "on",
        }
        response = admin.post(f"/admin/crm/client/{ann.pk}/change/", data)
        assert response.status_code == 200  # the form again, with its errors
        errors = response.context["adminform"].form.errors
        assert set(errors) == {"phone", "parq_answers"}
        response = admin.post(
            f"/admin/crm/client/{ann.pk}/change/",
            {**data, "phone": "07700 900124", "parq_answers": '{"heart_condition": true}'},
        )
        assert response.status_code == 302
        with tenant_context(gym_a):
            ann.refresh_from_db()
        assert ann.phone == "+447700900124"
        assert ann.parq_answers == {"heart_condition": True}

    def test_deleting_a_client_goes_through_client_delete(self, gym_a, gym, admin):
        bob = gym["bob"]
        response = admin.post(f"/admin/crm/client/{bob.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        with tenant_context(gym_a):
            assert not Client.objects.filter(pk=bob.pk).exists()
        assert audited(gym_a, "client.deleted", object_id=str(bob.pk))


class TestClientActions:
    def test_assign_a_trainer_asks_which_then_calls_the_service(self, gym_a, gym, admin):
        selected = [gym["ann"].pk, gym["bob"].pk]
        form = {"action": "assign_trainer", "_selected_action": selected}
        page = admin.post("/admin/crm/client/", form)
        assert page.status_code == 200
        html = page.content.decode()
        assert 'name="trainer"' in html
        assert "Tom Trainer" in html
        assert "Bob Baker" in html
        response = admin.post(
            "/admin/crm/client/",
            {**form, "apply": "Apply", "trainer": gym["tom"].pk, "is_primary": "on"},
        )
        assert response.status_code == 302
        with tenant_context(gym_a):
            current = Assignment.objects.filter(trainer=gym["tom"], ends_on__isnull=True)
            assert set(current.values_list("client_id", "is_primary")) == {
                (gym["ann"].pk, True),
                (gym["bob"].pk, True),
            }
            # Tina stays Ann's trainer, no longer the primary one: the service's rule.
            tina = Assignment.objects.get(trainer=gym["tina"], client=gym["ann"])
            assert (tina.ends_on, tina.is_primary) == (None, False)
            assert AuditEvent.objects.filter(action="assignment.created").count() == 3

    def test_change_status(self, gym_a, gym, admin):
        response = admin.post(
            "/admin/crm/client/",
            {
                "action": "change_status",
                "_selected_action": [gym["ann"].pk, gym["bob"].pk],
                "apply": "Apply",
                "status": "churned",
            },
        )
        assert response.status_code == 302
        with tenant_context(gym_a):
            clients = list(Client.objects.all())
        assert {c.status for c in clients} == {ClientStatus.CHURNED}
        assert all(c.churned_on for c in clients)  # the service dates it
        assert audited(gym_a, "client.updated", object_id=str(gym["bob"].pk))

    def test_export_selected_as_csv_without_health_data(self, gym, admin):
        response = admin.post(
            "/admin/crm/client/", {"action": "export_csv", "_selected_action": [gym["ann"].pk]}
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"

        body = b"".join(response.streaming_content).decode()
        rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
        assert [row["email"] for row in rows] == ["ann@example.com"]
        assert rows[0]["primary_trainer"] == "Tina Trainer"
        assert "Asthma" not in str(rows)


class TestOtherModels:
    def test_add_a_trainer_with_a_certification(self, gym_a, gym, admin):
        response = admin.post(
            "/admin/crm/trainer/add/",
            {
                "email": "Nina@alpha.example",
                "first_name": "Nina",
                "last_name": "North",
                "bio": "Kettlebells",
                "specialties": "strength,mobility",
                "hourly_rate": "45.00",
                "currency": "EUR",
                "calendar_colour": "#123456",
                "is_active": "on",
                "certifications-TOTAL_FORMS": "0",
                "certifications-INITIAL_FORMS": "0",
                "certifications-2-TOTAL_FORMS": "1",
                "certifications-2-INITIAL_FORMS": "0",
                "certifications-2-0-name": "First aid",
                "certifications-2-0-issuer": "Red Cross",
                "certifications-2-0-expires_on": "2027-05-01",
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        with tenant_context(gym_a):
            nina = Trainer.objects.get(user__email="nina@alpha.example")
            assert nina.user.role == Role.TRAINER
            assert nina.specialties == ["strength", "mobility"]
            assert list(nina.certifications.values_list("name", flat=True)) == ["First aid"]
        assert audited(gym_a, "trainer.created", object_id=str(nina.pk))
        assert audited(gym_a, "trainer.certification_added", object_id=str(nina.pk))

    def test_remove_a_certification(self, gym_a, gym, admin):
        tina = gym["tina"]
        with tenant_context(gym_a):
            cert = services.certification_create(actor=gym["owner"], trainer=tina, name="CPR")
        response = admin.post(
            f"/admin/crm/trainer/{tina.pk}/change/",
            {
                "bio": "",
                "specialties": "",
                "hourly_rate": "",
                "currency": "EUR",
                "calendar_colour": "#1a7f5a",
                "is_active": "on",
                "certifications-TOTAL_FORMS": "1",
                "certifications-INITIAL_FORMS": "1",
                "certifications-0-id": cert.pk,
                "certifications-0-trainer": tina.pk,
                "certifications-0-DELETE": "on",
                "certifications-2-TOTAL_FORMS": "0",
                "certifications-2-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        with tenant_context(gym_a):
            assert not Certification.objects.filter(pk=cert.pk).exists()
        assert audited(gym_a, "trainer.certification_removed", object_id=str(tina.pk))

    def test_end_an_assignment(self, gym_a, gym, admin):
        with tenant_context(gym_a):
            assignment = Assignment.objects.get(client=gym["ann"], trainer=gym["tina"])
        response = admin.post(
            f"/admin/crm/assignment/{assignment.pk}/change/",
            {"ends_on": assignment.starts_on.isoformat()},
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        with tenant_context(gym_a):
            assignment.refresh_from_db()
        assert assignment.ends_on is not None
        assert audited(gym_a, "assignment.ended", object_id=str(assignment.pk))

    def test_a_service_refusal_comes_back_as_a_message(self, gym_a, gym, admin):
        with tenant_context(gym_a):
            services.trainer_update(actor=gym["owner"], trainer=gym["tom"], is_active=False)
        response = admin.post(
            "/admin/crm/assignment/add/",
            {"client": gym["bob"].pk, "trainer": gym["tom"].pk, "starts_on": "2025-01-06"},
            follow=True,
        )
        assert response.status_code == 200
        assert "This trainer is not active." in response.content.decode()
        with tenant_context(gym_a):
            assert not Assignment.objects.filter(client=gym["bob"]).exists()

    def test_autocomplete_goes_through_the_client_selector(self, gym, admin):
        response = admin.get(
            "/admin/autocomplete/",
            {"app_label": "crm", "model_name": "assignment", "field_name": "client", "term": "ann"},
        )
        assert response.status_code == 200
        assert [r["text"] for r in response.json()["results"]] == ["Ann Able"]

    def test_history_is_never_deleted_here(self, gym_a, gym, admin):
        with tenant_context(gym_a):
            assignment = Assignment.objects.get(client=gym["ann"], trainer=gym["tina"])
        response = admin.post(f"/admin/crm/assignment/{assignment.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403
        assert "delete_selected" not in admin.get("/admin/crm/assignment/").content.decode()
        with tenant_context(gym_a):
            assert Assignment.objects.filter(pk=assignment.pk).exists()

    def test_notes_never_show_their_body_in_the_list(self, gym, admin):
        page = admin.get("/admin/crm/note/").content.decode()
        assert "Ann Able" in page
        assert "Sore left knee" not in page
        detail = admin.get(f"/admin/crm/note/{gym['note'].pk}/change/").content.decode()
        assert "Sore left knee" in detail  # a manager may read it, as in the app

    def test_note_changes_and_deletes_go_through_the_services(self, gym_a, gym, admin):
        note = gym["note"]
        response = admin.post(f"/admin/crm/note/{note.pk}/change/", {"body": "Knee is better."})
        assert response.status_code == 302
        assert audited(gym_a, "note.updated", object_id=str(note.pk))
        response = admin.post(f"/admin/crm/note/{note.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        with tenant_context(gym_a):
            assert not Note.objects.filter(pk=note.pk).exists()
        assert audited(gym_a, "note.deleted", object_id=str(note.pk))

    def test_convert_leads(self, gym_a, gym, admin):
        with tenant_context(gym_a):
            lead = services.lead_capture(first_name="Lia", email="lia@example.com")
        response = admin.post(
            "/admin/crm/lead/", {"action": "convert", "_selected_action": [lead.pk]}
        )
        assert response.status_code == 302
        with tenant_context(gym_a):
            lead.refresh_from_db()
            assert lead.status == LeadStatus.CONVERTED
            assert lead.client.email == "lia@example.com"
            assert lead.client.status == ClientStatus.TRIAL

    def test_lead_status_change(self, gym_a, admin):
        with tenant_context(gym_a):
            lead = services.lead_capture(first_name="Lia", phone="07700 900101")
        response = admin.post(f"/admin/crm/lead/{lead.pk}/change/", {"status": "contacted"})
        assert response.status_code == 302
        with tenant_context(gym_a):
            assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONTACTED
        assert audited(gym_a, "lead.updated", object_id=str(lead.pk))

    def test_record_a_consent_but_never_edit_one(self, gym_a, gym, admin):
        response = admin.post(
            "/admin/crm/consent/add/",
            {"client": gym["bob"].pk, "kind": "marketing_email", "granted": "on"},
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        with tenant_context(gym_a):
            consent = Consent.objects.get(client=gym["bob"])
            assert consent.recorded_by == gym["manager"]
        assert audited(gym_a, "client.consent_recorded", object_id=str(gym["bob"].pk))
        admin.post(f"/admin/crm/consent/{consent.pk}/change/", {"granted": ""})
        with tenant_context(gym_a):
            assert Consent.objects.get(pk=consent.pk).granted is True
        assert (
            admin.post(f"/admin/crm/consent/{consent.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
