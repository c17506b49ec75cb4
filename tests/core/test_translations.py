"""The Spanish, German and French catalogs in locale/: complete for the code as it is, with the
placeholders of the English text, compiled, and used by the pages.

Which strings the code has is read from the code itself, the way `make messages` reads it
(Django's makemessages, into a temporary folder), so a string added without a translation fails
here, naming it. `msgattrib --untranslated locale/<lang>/LC_MESSAGES/django.po` lists them too.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.progress import services as progress_services
from apps.tenants.models import Gym
from tests.conftest import BROWSER, PASSWORD, make_user
from tests.crm.conftest import CrmGym

LANGUAGES = ("es", "de", "fr")
LOCALE = Path(settings.BASE_DIR) / "locale"
HOW_TO_FIX = (
    "run `make messages`, translate the entries `msgattrib --untranslated "
    "locale/{lang}/LC_MESSAGES/django.po` lists, then `make messages` again to compile"
)

# printf-style (%s, %(name)s, %d, %.1f; %% is a literal percent sign) and str.format-style.
PERCENT_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[#0+-]?\d*(?:\.\d+)?[sdifrx]")
BRACE_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def catalog(lang: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))


def placeholders(entry: polib.POEntry, text: str) -> list[str]:
    found: list[str] = []
    if "python-format" in entry.flags:
        found += PERCENT_PLACEHOLDER.findall(text.replace("%%", ""))
    if "python-brace-format" in entry.flags:
        found += BRACE_PLACEHOLDER.findall(text.replace("{{", "").replace("}}", ""))
    return sorted(found)


def key(entry: polib.POEntry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


@pytest.fixture(scope="module")
def strings_in_the_code(tmp_path_factory: pytest.TempPathFactory) -> polib.POFile:
    """The msgids of the code as it is now: makemessages' template (.pot) of a copy of the
    code, so that the catalogs in locale/ are left as they are (makemessages writes next to the
    code it reads)."""
    if shutil.which("xgettext") is None:
        pytest.skip("GNU gettext (xgettext) is not installed; `make messages` needs it too")
    copy = tmp_path_factory.mktemp("code")
    for folder in ("apps", "fitnesscrm", "templates"):
        shutil.copytree(
            Path(settings.BASE_DIR) / folder,
            copy / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "locale"),
        )
    cwd = Path.cwd()
    try:
        os.chdir(copy)
        with override_settings(LOCALE_PATHS=[str(copy / "locale")]):
            call_command("makemessages", locale=["en"], keep_pot=True, verbosity=0)
    finally:
        os.chdir(cwd)
    return polib.pofile(str(copy / "locale" / "django.pot"))


def test_the_code_has_translatable_strings(strings_in_the_code: polib.POFile):
    # A broken extraction (wrong folder, everything ignored) must not pass as "all translated".
    msgids = {entry.msgid for entry in strings_in_the_code}
    assert len(msgids) > 1000
    assert {"Clients", "Check-in", "Log out"} <= msgids


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_in_the_code_is_translated(strings_in_the_code: polib.POFile, lang: str):
    translated = {
        key(entry)
        for entry in catalog(lang)
        if not entry.obsolete and entry.translated() and "fuzzy" not in entry.flags
    }
    missing = [entry.msgid for entry in strings_in_the_code if key(entry) not in translated]
    assert not missing, (
        f"{len(missing)} strings have no {lang} translation, e.g. {missing[:10]}: "
        + HOW_TO_FIX.format(lang=lang)
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_entry_is_fuzzy_or_empty(lang: str):
    po = catalog(lang)
    assert not po.metadata_is_fuzzy or po.metadata.get("Language") == lang
    unfinished = [e.msgid for e in po if not e.obsolete and (not e.translated() or e.fuzzy)]
    assert not unfinished, f"{lang}: {unfinished[:10]}: " + HOW_TO_FIX.format(lang=lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_are_kept(lang: str):
    """A translation names exactly the placeholders of the English text: a missing one loses a
    value, an unknown one raises KeyError when the page renders."""
    po = catalog(lang)
    nplurals = int(re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"]).group(1))
    wrong = []
    for entry in po:
        if entry.obsolete or not entry.translated():
            continue
        if not entry.msgid_plural:
            if placeholders(entry, entry.msgstr) != placeholders(entry, entry.msgid):
                wrong.append((entry.msgid, entry.msgstr))
            continue
        forms = [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
        if len(forms) != nplurals:
            wrong.append((entry.msgid, f"{len(forms)} plural forms, the header says {nplurals}"))
            continue
        # The first form may leave out the count ("One class"); the others say everything the
        # English plural says, and no form names anything the English does not.
        allowed = set(placeholders(entry, entry.msgid)) | set(
            placeholders(entry, entry.msgid_plural)
        )
        plural = set(placeholders(entry, entry.msgid_plural))
        if not set(placeholders(entry, forms[0])) <= allowed or any(
            set(placeholders(entry, form)) != plural for form in forms[1:]
        ):
            wrong.append((entry.msgid, forms))
    assert not wrong, f"{lang}: placeholders differ from the English: {wrong[:10]}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalog_matches_the_po_file(lang: str):
    """The .mo files are committed (a newcomer has no gettext to compile them): each must say
    what its .po file says."""
    po = catalog(lang)
    mo_path = LOCALE / lang / "LC_MESSAGES" / "django.mo"
    assert mo_path.exists(), f"{mo_path} is missing: run `make messages`"
    mo = polib.mofile(str(mo_path))

    def contents(entries) -> dict[tuple[str | None, str], object]:  # type: ignore[no-untyped-def]
        return {
            key(e): (
                tuple(e.msgstr_plural[i] for i in sorted(e.msgstr_plural))
                if e.msgid_plural
                else e.msgstr
            )
            for e in entries
            if e.msgid
            and not e.obsolete
            and (e.msgstr or any(e.msgstr_plural.values()))
            and "fuzzy" not in e.flags
        }

    expected, compiled = contents(po), contents(mo)
    stale = sorted(k[1] for k in expected.keys() ^ compiled.keys()) + sorted(
        k[1] for k in expected.keys() & compiled.keys() if expected[k] != compiled[k]
    )
    assert not stale, f"{mo_path} is out of date ({stale[:5]}…): run `make messages`"
    assert mo.metadata.get("Plural-Forms") == po.metadata["Plural-Forms"]


# How each catalog addresses the reader, everywhere: German and French formally (Sie, vous),
# Spanish informally (tú), as gym software in each language does.
INFORMAL = {"de": r"\b(du|dich|dir|dein\w*)\b", "fr": r"\b(tu|toi|ton|ta|tes)\b"}


@pytest.mark.parametrize("lang", sorted(INFORMAL))
def test_the_reader_is_addressed_one_way(lang: str):
    informal = re.compile(INFORMAL[lang], re.IGNORECASE)
    found = [
        (entry.msgid, text)
        for entry in catalog(lang)
        if not entry.obsolete
        for text in ([entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values())
        if informal.search(text)
    ]
    assert not found, f"{lang} says Sie/vous, not du/tu: {found[:10]}"


# --- The pages -------------------------------------------------------------------------------

# A measurement of 79.25 kg taken on 8 January 2026, as each language writes it on the progress
# page (SHORT_DATE_FORMAT and the decimal separator of Django's locale formats).
PROGRESS_PAGE = {
    "en": ("Weight", "01/08/2026", "79.25", 'lang="en"'),
    "es": ("Peso", "08/01/2026", "79,25", 'lang="es"'),
    "de": ("Gewicht", "08.01.2026", "79,25", 'lang="de"'),
    "fr": ("Poids", "08/01/2026", "79,25", 'lang="fr"'),
}


@pytest.fixture
def measured_ann(crm_a: CrmGym) -> CrmGym:
    with tenant_context(crm_a.gym):
        progress_services.measurement_create(
            actor=crm_a.owner,
            client=crm_a.ann,
            weight_kg=Decimal("79.25"),
            measured_at=datetime(2026, 1, 8, 12, 0, tzinfo=UTC),
        )
    connection.set_schema_to_public()
    return crm_a


def progress_page(crm: CrmGym, client, user, language: str) -> str:  # type: ignore[no-untyped-def]
    with tenant_context(crm.gym):
        user.language = language
        user.save(update_fields=["language"])
    connection.set_schema_to_public()
    client.force_login(user)
    response = client.get(f"/progress/clients/{crm.ann.pk}/")
    assert response.status_code == 200
    return response.content.decode()


needs_gym_language = pytest.mark.skipif(
    not any(field.name == "language" for field in Gym._meta.get_fields()),
    reason="the gym has no language setting",
)


@needs_gym_language
@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_a_page_speaks_the_users_language(measured_ann: CrmGym, client_a, language: str):
    html = progress_page(measured_ann, client_a, measured_ann.tina.user, language)
    word, day, number, lang_attribute = PROGRESS_PAGE[language]
    assert word in html
    assert day in html
    assert f">{number}<" in html
    assert lang_attribute in html


@needs_gym_language
@pytest.mark.parametrize("gym_language", LANGUAGES)
def test_the_gyms_language_is_the_default(measured_ann: CrmGym, client_a, gym_language: str):
    """Someone who has not chosen a language reads the gym's, whatever their browser asks."""
    Gym.objects.filter(pk=measured_ann.gym.pk).update(language=gym_language)
    client_a.defaults["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    html = progress_page(measured_ann, client_a, measured_ann.tina.user, "")
    word, day, number, lang_attribute = PROGRESS_PAGE[gym_language]
    assert word in html
    assert day in html
    assert f">{number}<" in html
    assert lang_attribute in html


@needs_gym_language
def test_the_users_choice_beats_the_gyms(measured_ann: CrmGym, client_a):
    Gym.objects.filter(pk=measured_ann.gym.pk).update(language="fr")
    html = progress_page(measured_ann, client_a, measured_ann.tina.user, "de")
    assert "Gewicht" in html
    assert "Poids" not in html


# A trainer's hourly rate of 45.50 euros, as each language writes money (Babel's CLDR data).
MONEY = {"en": "€45.50", "es": "45,50 €", "de": "45,50 €", "fr": "45,50 €"}


@needs_gym_language
@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_money_is_written_the_readers_way(crm_a: CrmGym, client_a, language: str):
    Gym.objects.filter(pk=crm_a.gym.pk).update(currency="EUR")
    with tenant_context(crm_a.gym):
        type(crm_a.tina).objects.filter(pk=crm_a.tina.pk).update(hourly_rate=Decimal("45.50"))
        crm_a.owner.language = language
        crm_a.owner.save(update_fields=["language"])
    connection.set_schema_to_public()
    client_a.force_login(crm_a.owner)
    response = client_a.get(f"/trainers/{crm_a.tina.pk}/")
    assert response.status_code == 200
    # CLDR separates the amount and the symbol with a no-break space (narrow in French).
    html = re.sub("[\u00a0\u202f]", " ", response.content.decode())
    assert MONEY[language] in html


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("es-ES,es;q=0.9", "Gestiona tu gimnasio, no tus hojas de cálculo."),
        ("de-DE,de;q=0.9", "Führen Sie Ihr Studio, nicht Ihre Tabellen."),
        ("fr-FR,fr;q=0.9", "Gérez votre salle, pas vos tableurs."),
        ("en-US,en;q=0.9", "Run your gym, not your spreadsheets."),
    ],
)
def test_the_platforms_page_follows_the_browser(public_client, accept: str, expected: str):
    response = public_client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    assert expected in response.content.decode()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["de", "fr"])
def test_longer_words_fit_a_phone(live_server_port, committed_db, page, language: str):
    """German and French run longer than English: every page of an owner's navigation still
    fits 390 px without sideways scrolling, and says `lang` in the language chosen."""
    gym = Gym.objects.get(subdomain=BROWSER.subdomain)
    email = f"lang-{uuid.uuid4().hex[:8]}@charlie.example"
    with tenant_context(gym):
        make_user("owner", email, first_name="Olga", last_name="Owner", language=language)
    connection.set_schema_to_public()
    origin = f"http://{BROWSER.host}:{live_server_port}"
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{origin}/accounts/login/")
        page.locator('input[name="login"]').fill(email)
        page.locator('input[name="password"]').fill(PASSWORD)
        page.locator('form button[type="submit"]').first.click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        hrefs = page.eval_on_selector_all("nav a[href]", "links => links.map(a => a.href)")
        paths = sorted({urlsplit(h).path for h in hrefs if h.startswith(origin)})
        assert len(paths) > 5, paths
        problems = []
        for path in paths:
            response = page.goto(origin + path)
            assert response is not None, path
            assert response.status == 200, path
            assert page.get_attribute("html", "lang") == language, path
            wide, view = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
            if wide > view:
                problems.append(f"{path}: {wide}px wide in {view}px")
        assert not problems, problems
    finally:
        with tenant_context(gym):
            User.objects.filter(email=email).delete()
        connection.set_schema_to_public()


@needs_gym_language
@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_a_day_is_written_the_readers_way(crm_a: CrmGym, client_a, language: str):
    from django.utils import translation
    from django.utils.dateformat import format as date_format

    with tenant_context(crm_a.gym):
        crm_a.owner.language = language
        crm_a.owner.save(update_fields=["language"])
        from apps.tenants.selectors import gym_today

        day = gym_today()
    connection.set_schema_to_public()
    client_a.force_login(crm_a.owner)
    html = client_a.get("/").content.decode()
    with translation.override(language):
        weekday, month = date_format(day, "l"), date_format(day, "F")
    expected = {
        "en": f"{weekday} {day.day} {month} {day.year}",
        "de": f"{weekday}, {day.day}. {month} {day.year}",
        "fr": f"{weekday} {day.day} {month} {day.year}",
        "es": f"{weekday} {day.day} de {month} de {day.year}",
    }[language]
    assert expected in html
