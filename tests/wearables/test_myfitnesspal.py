"""MyFitnessPal: its exports of different dates (zip or CSV, commas or semicolons, BOM or not)
become one nutrition day per day with its meals; importing again updates in place; a bad file
says where it is wrong and changes nothing; trainers set targets that intake is shown against,
and only the client's own trainers and management may."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.tenants.selectors import gym_today
from apps.wearables.models import Connection, NutritionDay, NutritionTarget, Provider
from apps.wearables.providers.myfitnesspal import selectors, services
from tests.crm.conftest import CrmGym, build_crm_gym

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm_a(gym_a, owner_a) -> CrmGym:  # type: ignore[no-untyped-def]
    """Gym A's small business (tests/crm/conftest.py): Cara is Tom's client with a login."""
    return build_crm_gym(gym_a, owner_a)


@pytest.fixture
def crm_b(gym_b, owner_b) -> CrmGym:  # type: ignore[no-untyped-def]
    return build_crm_gym(gym_b, owner_b)


CURRENT_HEADER = (
    "Date,Meal,Calories,Fat (g),Saturated Fat,Polyunsaturated Fat,Monounsaturated Fat,"
    "Trans Fat,Cholesterol,Sodium (mg),Potassium,Carbohydrates (g),Fiber,Sugar,Protein (g),"
    "Vitamin A,Vitamin C,Calcium,Iron,Note"
)


def _days_ago(n: int) -> date:
    return gym_today() - timedelta(days=n)


def current_csv(first: date, *, lunch_kcal: int = 640) -> bytes:
    """Today's export: ISO dates, one line per meal, every nutrient, a BOM."""
    second = first + timedelta(days=1)
    lines = [
        CURRENT_HEADER,
        f"{first},Breakfast,412,12.5,4.1,1.2,5.0,0.0,210,480,390,48.2,6.1,11.0,24.3,8,12,15,10,",
        f"{first},Lunch,{lunch_kcal},22.0,6.0,3.0,9.0,0.0,85,910,720,71.4,9.0,8.2,38.0,20,35,10,22,",
        f'{first},Dinner,"1,020",41.3,12.0,6.1,18.2,0.2,120,1300,980,96.0,11.2,14.0,61.7,30,40,20,30,'
        '"pasta, then fruit"',
        f"{first},Snacks,180,7.0,1.0,2.0,3.0,0.0,0,95,210,22.0,3.0,15.0,4.0,2,10,4,2,",
        f"{second},Breakfast,350,10.0,3.0,1.0,4.0,0.0,190,400,300,40.0,5.0,9.0,20.0,5,10,10,8,",
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def current_zip(first: date, **kwargs: int) -> bytes:
    """The zip MyFitnessPal emails: nutrition, exercise and measurement summaries."""
    buffer = io.BytesIO()
    end = first + timedelta(days=1)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"Nutrition-Summary-{first}-to-{end}.csv", current_csv(first, **kwargs))
        archive.writestr(
            f"Exercise-Summary-{first}-to-{end}.csv",
            "Date,Exercise,Type,Exercise Calories,Exercise Minutes,Sets,Reps Per Set,Kilograms,"
            f"Steps,Note\r\n{first},Running,Cardio,320,30,,,,,\r\n",
        )
        archive.writestr(
            f"Measurement-Summary-{first}-to-{end}.csv", f"Date,Weight\r\n{first},81.4\r\n"
        )
    return buffer.getvalue()


def older_semicolon_csv(first: date) -> bytes:
    """An older export saved by a European spreadsheet: semicolons, decimal commas, dotted
    day-first dates, "Total Fat"/"Carbs"/"Protein" without units, a BOM."""
    d = first.strftime("%d.%m.%Y")
    lines = [
        "Date;Meal;Calories;Total Fat;Carbs;Protein;Sodium;Sugar",
        f"{d};Breakfast;412;12,5;48,2;24,3;480;11",
        f"{d};Dinner;830;30,4;70,1;52,6;1100;9,5",
    ]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def daily_totals_csv(first: date) -> bytes:
    """A daily-totals export (no meals) with water in cups and American slashed dates."""
    lines = ['"Day","Energy (kcal)","Carbohydrate (g)","Fat","Protein","Water (cups)"']
    for offset, kcal in ((0, "1,850"), (1, "2,010")):
        day = first + timedelta(days=offset)
        lines.append(f'"{day:%m/%d/%Y}","{kcal}","210","70","120","8"')
    return ("\n".join(lines) + "\n").encode()


def _import(crm: CrmGym, content: bytes, name: str = "export.zip") -> services.ImportResult:
    with tenant_context(crm.gym):
        return services.nutrition_import(
            actor=crm.cara_user, client=crm.cara, name=name, content=content
        )


def _days(crm: CrmGym) -> list[NutritionDay]:
    with tenant_context(crm.gym):
        return list(NutritionDay.objects.filter(client=crm.cara).order_by("date"))


# --- Formats ----------------------------------------------------------------------------------


def test_the_current_zip_export_becomes_one_day_per_date_with_its_meals(crm_a) -> None:
    with tenant_context(crm_a.gym):
        first = _days_ago(3)
    result = _import(crm_a, current_zip(first))
    assert (result.days, result.created, result.updated) == (2, 2, 0)
    assert (result.first, result.last) == (first, first + timedelta(days=1))

    day, next_day = _days(crm_a)
    assert (day.provider, day.provider_id, day.date) == (Provider.MYFITNESSPAL, str(first), first)
    assert day.device == "MyFitnessPal"
    assert day.time_zone == crm_a.gym.time_zone
    assert day.calories_kcal == 412 + 640 + 1020 + 180
    assert day.fat_g == Decimal("82.8")
    assert day.carbohydrate_g == Decimal("237.6")
    assert day.protein_g == Decimal("128.0")
    assert day.water_ml is None
    assert [meal["name"] for meal in day.meals] == ["Breakfast", "Lunch", "Dinner", "Snacks"]
    assert day.meals[2] == {
        "name": "Dinner",
        "calories_kcal": 1020,
        "protein_g": 61.7,
        "carbohydrate_g": 96.0,
        "fat_g": 41.3,
    }
    assert next_day.calories_kcal == 350

    with tenant_context(crm_a.gym):
        source = Connection.objects.get(client=crm_a.cara, provider=Provider.MYFITNESSPAL)
        assert source.status == "active"
        assert source.kind_list == ["nutrition"]
        assert source.access_token == ""
        assert source.refresh_token == ""
        assert timezone.now() - source.last_sync_at < timedelta(minutes=1)
        assert AuditEvent.objects.filter(action="wearables.nutrition_imported").exists()


def test_an_older_semicolon_export_with_decimal_commas_reads_the_same_nutrients(crm_a) -> None:
    with tenant_context(crm_a.gym):
        first = _days_ago(20)
    _import(crm_a, older_semicolon_csv(first), name="Nutrition Summary.csv")
    (day,) = _days(crm_a)
    assert day.date == first
    assert day.calories_kcal == 1242
    assert (day.fat_g, day.carbohydrate_g, day.protein_g) == (
        Decimal("42.9"),
        Decimal("118.3"),
        Decimal("76.9"),
    )
    assert [meal["name"] for meal in day.meals] == ["Breakfast", "Dinner"]


def test_a_daily_totals_export_with_water_in_cups_and_american_dates(crm_a) -> None:
    with tenant_context(crm_a.gym):
        # Early in a month: 11/02 read day first would be a different day (or the future).
        first = _days_ago(40).replace(day=2)
    _import(crm_a, daily_totals_csv(first), name="nutrition.csv")
    days = _days(crm_a)
    assert [(d.date, d.calories_kcal) for d in days] == [
        (first, 1850),
        (first + timedelta(days=1), 2010),
    ]
    assert days[0].water_ml == 1893  # 8 cups
    assert days[0].meals == []
    assert days[0].protein_g == Decimal("120.0")


def test_a_zip_whose_nutrition_csv_was_renamed_is_found_by_its_columns(crm_a) -> None:
    with tenant_context(crm_a.gym):
        first = _days_ago(5)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export/food.csv", current_csv(first))
        archive.writestr("export/weights.csv", f"Date,Weight\n{first},80\n")
    assert _import(crm_a, buffer.getvalue(), name="mine.zip").days == 2


def test_two_overlapping_exports_in_one_zip_give_each_day_once(crm_a) -> None:
    with tenant_context(crm_a.gym):
        first = _days_ago(8)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"Nutrition-Summary-{first}-a.csv", current_csv(first))
        archive.writestr(f"Nutrition-Summary-{first}-b.csv", current_csv(first, lunch_kcal=700))
    assert _import(crm_a, buffer.getvalue()).days == 2
    day = _days(crm_a)[0]
    assert day.calories_kcal == 412 + 700 + 1020 + 180


@pytest.mark.parametrize(("role", "allowed"), [("tom", True), ("tina", False), ("desk", False)])
def test_who_may_import_for_a_client(crm_a, role, allowed) -> None:
    with tenant_context(crm_a.gym):
        content = current_zip(_days_ago(4))
        if allowed:
            result = services.nutrition_import(
                actor=crm_a.user(role), client=crm_a.cara, name="e.zip", content=content
            )
            assert result.days == 2
        else:
            with pytest.raises(PermissionDenied):
                services.nutrition_import(
                    actor=crm_a.user(role), client=crm_a.cara, name="e.zip", content=content
                )
            assert not NutritionDay.objects.filter(client=crm_a.cara).exists()


# --- Importing again --------------------------------------------------------------------------


def test_importing_again_updates_days_in_place_and_never_doubles(crm_a) -> None:
    with tenant_context(crm_a.gym):
        first = _days_ago(10)
    _import(crm_a, current_zip(first))
    again = _import(crm_a, current_zip(first))
    assert (again.created, again.updated) == (0, 2)
    assert len(_days(crm_a)) == 2

    # A later export: the lunch was corrected, and a new day follows.
    later = current_csv(first, lunch_kcal=700) + (
        f"{first + timedelta(days=2)},Lunch,500,10,0,0,0,0,0,0,0,50,0,0,30,0,0,0,0,\r\n".encode()
    )
    result = _import(crm_a, later, name="Nutrition-Summary.csv")
    assert (result.created, result.updated) == (1, 2)
    days = _days(crm_a)
    assert len(days) == 3
    assert days[0].calories_kcal == 412 + 700 + 1020 + 180
    assert [meal["calories_kcal"] for meal in days[0].meals] == [412, 700, 1020, 180]
    with tenant_context(crm_a.gym):
        assert Connection.objects.filter(client=crm_a.cara).count() == 1


# --- Bad files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "bad.csv",
            f"{CURRENT_HEADER}\n2026-01-05,Breakfast,412,12.5,4,1,5,0,210,480,390,48,6,11,"
            "lots,8,12,15,10,\n".encode(),
            ["line 2", "“lots”", "Protein (g)", "not a number"],
        ),
        (
            "bad.csv",
            f"{CURRENT_HEADER}\n2026-01-05,Lunch,100,1,0,0,0,0,0,0,0,1,0,0,1,0,0,0,0,\n"
            "2026-02-31,Lunch,100,1,0,0,0,0,0,0,0,1,0,0,1,0,0,0,0,\n".encode(),
            ["line 3", "2026-02-31", "Date", "not a date"],
        ),
        (
            "bad.csv",
            f"{CURRENT_HEADER}\n2026-01-05,Lunch,-40,1,0,0,0,0,0,0,0,1,0,0,1,0,0,0,0,\n".encode(),
            ["line 2", "Calories", "out of range"],
        ),
        (
            "weights.csv",
            b"Day of weigh-in,Weight\n2026-01-05,80\n",
            ["weights.csv", "no “Date” column", "Day of weigh-in"],
        ),
        ("empty.csv", f"{CURRENT_HEADER}\n".encode(), ["has a header but no days"]),
        ("export.zip", b"PK\x03\x04\x14\x00\x00\x00truncated", ["not a complete zip"]),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["not a CSV file"]),
    ],
)
def test_a_bad_file_says_where_and_keeps_what_was_stored(crm_a, name, content, expected) -> None:
    with tenant_context(crm_a.gym):
        first = _days_ago(3)
    _import(crm_a, current_zip(first))
    before = [(d.pk, d.calories_kcal, d.updated_at) for d in _days(crm_a)]
    # A good line before the bad one must not be stored either.
    with pytest.raises(services.ExportFileError) as caught:
        _import(crm_a, content, name=name)
    for part in expected:
        assert part in str(caught.value)
    assert [(d.pk, d.calories_kcal, d.updated_at) for d in _days(crm_a)] == before


def test_a_bad_line_after_good_ones_stores_none_of_the_file(crm_a) -> None:
    with tenant_context(crm_a.gym):
        first = _days_ago(6)
    content = current_csv(first) + b"not-a-day,Lunch,100,1,0,0,0,0,0,0,0,1,0,0,1,0,0,0,0,\r\n"
    with pytest.raises(services.ExportFileError, match="line 7"):
        _import(crm_a, content, name="Nutrition-Summary.csv")
    assert _days(crm_a) == []
    with tenant_context(crm_a.gym):
        assert not Connection.objects.filter(client=crm_a.cara).exists()


def test_days_in_the_future_are_refused_and_nothing_is_stored(crm_a) -> None:
    with tenant_context(crm_a.gym):
        today = gym_today()
        # Tomorrow is allowed (a client ahead of the gym's time zone); later is not.
        ahead = today + timedelta(days=3)
    content = (
        f"{CURRENT_HEADER}\n{today},Lunch,500,1,0,0,0,0,0,0,0,1,0,0,1,0,0,0,0,\n"
        f"{ahead},Lunch,500,1,0,0,0,0,0,0,0,1,0,0,1,0,0,0,0,\n"
    ).encode()
    with pytest.raises(services.ExportFileError) as caught:
        _import(crm_a, content, name="n.csv")
    assert "line 3" in str(caught.value)
    assert "in the future" in str(caught.value)
    assert _days(crm_a) == []
    tomorrow = (
        f"{CURRENT_HEADER}\n{today + timedelta(days=1)},Lunch,500,1,0,0,0,0,0,0,0,1,0,0,1,"
        "0,0,0,0,\n"
    ).encode()
    assert _import(crm_a, tomorrow, name="n.csv").days == 1


# --- Targets and intake -----------------------------------------------------------------------


def test_intake_against_targets_picks_one_source_per_day_and_compares(crm_a) -> None:
    with tenant_context(crm_a.gym):
        day = _days_ago(1)
        client = crm_a.cara
        for provider, kcal in ((Provider.APPLE_HEALTH, 900), (Provider.MYFITNESSPAL, 2150)):
            NutritionDay.objects.create(
                client=client,
                provider=provider,
                provider_id=str(day),
                date=day,
                calories_kcal=kcal,
                protein_g=Decimal(100),
            )
        services.nutrition_target_set(
            actor=crm_a.tom.user,
            client=client,
            calories_kcal=2000,
            protein_g=150,
            carbohydrate_g=None,
            fat_g=None,
        )
        rows = selectors.intake_against_targets(
            client_id=client.pk, start=day - timedelta(days=1), end=day
        )
        assert [row["logged"] for row in rows] == [False, True]
        latest = rows[1]
        assert (latest["provider"], latest["calories_kcal"]) == (Provider.MYFITNESSPAL, 2150)
        assert latest["nutrients"]["calories_kcal"] == {
            "value": 2150,
            "target": 2000,
            "percent": 108,
            "status": "on",
            "bar": 100,
        }
        assert latest["nutrients"]["protein_g"]["status"] == "under"
        assert latest["nutrients"]["protein_g"]["bar"] == 65  # 67 % to the nearest 5
        assert latest["nutrients"]["fat_g"]["status"] == ""

        # The client ranks Apple Health first: its day wins, never both added up.
        Connection.objects.create(client=client, provider=Provider.APPLE_HEALTH, precedence=1)
        (row,) = selectors.intake_against_targets(client_id=client.pk, start=day, end=day)
        assert (row["provider"], row["calories_kcal"]) == (Provider.APPLE_HEALTH, 900)
        assert row["nutrients"]["calories_kcal"]["status"] == "under"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("tom", True),  # Cara's trainer
        ("manager", True),
        ("owner", True),
        ("tina", False),  # another trainer
        ("desk", False),
        ("cara", False),  # the client herself
    ],
)
def test_who_may_set_targets(crm_a, role, allowed) -> None:
    with tenant_context(crm_a.gym):
        kwargs = {
            "client": crm_a.cara,
            "calories_kcal": 2200,
            "protein_g": 140,
            "carbohydrate_g": 250,
            "fat_g": 70,
        }
        if allowed:
            target = services.nutrition_target_set(actor=crm_a.user(role), **kwargs)
            assert target.set_by == crm_a.user(role)
        else:
            with pytest.raises(PermissionDenied):
                services.nutrition_target_set(actor=crm_a.user(role), **kwargs)
            assert not NutritionTarget.objects.filter(client=crm_a.cara).exists()


# --- Pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "page", "save"),
    [
        ("tom", 200, 302),
        ("manager", 200, 302),
        ("owner", 200, 302),
        ("tina", 404, 404),
        ("desk", 403, 403),
        ("cara", 403, 403),
    ],
)
def test_the_staff_nutrition_page_answers_by_role(crm_a, client_a, role, page, save) -> None:
    client_a.force_login(crm_a.user(role))
    url = f"/wearables/nutrition/{crm_a.cara.pk}/"
    assert client_a.get(url).status_code == page
    response = client_a.post(
        f"{url}targets/",
        {"calories_kcal": "2100", "protein_g": "150", "carbohydrate_g": "", "fat_g": "60"},
    )
    assert response.status_code == save
    with tenant_context(crm_a.gym):
        target = NutritionTarget.objects.filter(client=crm_a.cara).first()
        if save == 302:
            assert (target.calories_kcal, target.protein_g, target.carbohydrate_g) == (
                2100,
                150,
                None,
            )
        else:
            assert target is None
    upload = SimpleUploadedFile("export.zip", current_zip(date(2026, 1, 5)))
    imported = client_a.post(f"{url}import/", {"file": upload})
    assert imported.status_code == save


def test_a_bad_target_names_the_field(crm_a, client_a) -> None:
    client_a.force_login(crm_a.tom.user)
    response = client_a.post(
        f"/wearables/nutrition/{crm_a.cara.pk}/targets/",
        {"calories_kcal": "90000", "protein_g": "abc"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_calories_kcal-error"' in body
    assert 'id="id_protein_g-error"' in body


def test_a_trainer_imports_for_their_client_and_sees_intake_against_targets(
    crm_a, client_a
) -> None:
    with tenant_context(crm_a.gym):
        first = _days_ago(2)
    client_a.force_login(crm_a.tom.user)
    url = f"/wearables/nutrition/{crm_a.cara.pk}/"
    client_a.post(f"{url}targets/", {"calories_kcal": "2000", "protein_g": "120"})
    upload = SimpleUploadedFile("export.zip", current_zip(first))
    response = client_a.post(f"{url}import/", {"file": upload}, follow=True)
    body = response.content.decode()
    assert "Imported 2 days from MyFitnessPal" in body
    assert "2252 kcal" in body
    assert "nutrition-over" in body  # 2252 of 2000 kcal
    assert "nutrition-w-100" in body
    assert "4 meals" in body

    bad = SimpleUploadedFile("export.csv", b"Date,Calories\nyesterday,100\n")
    response = client_a.post(f"{url}import/", {"file": bad})
    assert response.status_code == 400
    assert "line 2" in response.content.decode()


def test_the_client_imports_from_the_portal_and_sees_their_intake(crm_a, client_a) -> None:
    with tenant_context(crm_a.gym):
        first = _days_ago(1)
    client_a.force_login(crm_a.cara_user)
    page = client_a.get("/portal/activity/myfitnesspal/")
    assert page.status_code == 200
    assert "Nothing imported yet." in page.content.decode()
    upload = SimpleUploadedFile("export.zip", current_zip(first))
    response = client_a.post("/portal/activity/myfitnesspal/", {"file": upload}, follow=True)
    body = response.content.decode()
    assert "Imported 2 days from MyFitnessPal" in body
    assert "2252 kcal" in body
    assert "Last imported" in body

    bad = SimpleUploadedFile("export.csv", f"{CURRENT_HEADER}\n2026-13-01,Lunch,1\n".encode())
    response = client_a.post("/portal/activity/myfitnesspal/", {"file": bad})
    assert response.status_code == 400
    assert "not a date" in response.content.decode()
    # Staff are sent to the dashboard from the portal.
    client_a.force_login(crm_a.tom.user)
    assert client_a.get("/portal/activity/myfitnesspal/").status_code == 403


def test_gym_a_staff_cannot_reach_gym_b_clients_through_these_pages(crm_a, crm_b, client_a) -> None:
    with tenant_context(crm_b.gym):
        first = _days_ago(2)
    _import(crm_b, current_zip(first))
    with tenant_context(crm_b.gym):
        services.nutrition_target_set(
            actor=crm_b.owner,
            client=crm_b.cara,
            calories_kcal=3333,
            protein_g=None,
            carbohydrate_g=None,
            fat_g=None,
        )
    connection.set_schema_to_public()
    client_a.force_login(crm_a.owner)
    url = f"/wearables/nutrition/{crm_b.cara.pk}/"
    response = client_a.get(url)
    # An id is only a number in gym A's schema: either no such client, or gym A's own.
    assert response.status_code in (200, 404)
    assert "3333" not in response.content.decode()
    assert "2252" not in response.content.decode()
    client_a.post(f"{url}targets/", {"calories_kcal": "1200"})
    client_a.post(
        f"{url}import/", {"file": SimpleUploadedFile("e.zip", current_zip(_days_ago(30)))}
    )
    with tenant_context(crm_b.gym):
        assert NutritionTarget.objects.get(client=crm_b.cara).calories_kcal == 3333
        assert NutritionDay.objects.filter(client=crm_b.cara).count() == 2


def test_the_pages_run_a_bounded_number_of_queries(
    crm_a, client_a, django_assert_max_num_queries
) -> None:
    with tenant_context(crm_a.gym):
        rows = "\n".join(
            f"{_days_ago(n)},{meal},500,10,0,0,0,0,0,0,0,60,0,0,30,0,0,0,0,"
            for n in range(60)
            for meal in ("Breakfast", "Lunch", "Dinner")
        )
        services.nutrition_target_set(
            actor=crm_a.owner,
            client=crm_a.cara,
            calories_kcal=2000,
            protein_g=100,
            carbohydrate_g=200,
            fat_g=60,
        )
    content = f"{CURRENT_HEADER}\n{rows}\n".encode()
    with django_assert_max_num_queries(12):
        assert _import(crm_a, content, name="n.csv").days == 60
    client_a.force_login(crm_a.tom.user)
    with django_assert_max_num_queries(20):
        response = client_a.get(f"/wearables/nutrition/{crm_a.cara.pk}/")
    assert response.content.decode().count('data-testid="intake-row"') == 14
    client_a.force_login(crm_a.cara_user)
    with django_assert_max_num_queries(20):
        response = client_a.get("/portal/activity/myfitnesspal/")
    assert response.content.decode().count('data-testid="intake-row"') == 14
