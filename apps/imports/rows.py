"""From one CSV row to the fields of a client: which column means what, and how dates,
statuses and tags written by other software are read.

Rows are validated with the model's own field rules (the ones `client_create` and
`client_update` apply through `full_clean`), so the dry run and the import agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.models import User
from apps.accounts.roles import HEALTH_DATA_ROLES, has_role
from apps.crm.models import Client, ClientStatus
from apps.crm.phones import PHONE_FIELDS, normalise_phone, phone_key
from apps.imports.models import DateOrder
from apps.tenants.selectors import gym_today

FULL_NAME = "full_name"
DATE_FIELDS = ("date_of_birth", "joined_on")
# Clients created by an import say so unless the file has its own source column.
DEFAULT_SOURCE = "import"
# Fewer digits than this is not a phone number anyone can be recognised by.
MIN_PHONE_DIGITS = 6
# A value our own export defused ('=…) comes back as it was.
_DEFUSED = re.compile(r"^'(?=[=+\-@\t\r])")


@dataclass(frozen=True)
class Target:
    """A client field a column can be imported into."""

    name: str
    label: str | Promise
    # Header spellings that mean this field, compared lower-case without spaces or punctuation.
    synonyms: tuple[str, ...]
    health: bool = False


TARGETS: tuple[Target, ...] = (
    Target(
        "first_name",
        gettext_lazy("First name"),
        ("firstname", "first", "givenname", "forename", "fname", "clientfirstname"),
    ),
    Target(
        "last_name",
        gettext_lazy("Last name"),
        ("lastname", "last", "surname", "familyname", "lname", "clientlastname"),
    ),
    Target(
        FULL_NAME,
        gettext_lazy("Full name (split into first and last name)"),
        ("name", "fullname", "clientname", "membername", "client", "member", "customername"),
    ),
    Target(
        "email",
        gettext_lazy("Email"),
        ("email", "emailaddress", "mail", "clientemail", "primaryemail", "emailaddr"),
    ),
    Target(
        "phone",
        gettext_lazy("Phone"),
        (
            "phone",
            "mobile",
            "mobilephone",
            "mobilenumber",
            "cell",
            "cellphone",
            "telephone",
            "tel",
            "phonenumber",
            "homephone",
            "contactnumber",
        ),
    ),
    Target(
        "date_of_birth",
        gettext_lazy("Date of birth"),
        ("dob", "dateofbirth", "birthdate", "birthday", "born"),
    ),
    Target(
        "status",
        gettext_lazy("Status"),
        ("status", "memberstatus", "membershipstatus", "clientstatus"),
    ),
    Target("tags", gettext_lazy("Tags"), ("tags", "tag", "labels", "groups", "categories")),
    Target(
        "joined_on",
        gettext_lazy("Joined on"),
        (
            "joined",
            "joinedon",
            "joindate",
            "datejoined",
            "membersince",
            "startdate",
            "creationdate",
            "created",
            "createdon",
            "signupdate",
        ),
    ),
    Target(
        "source",
        gettext_lazy("Source"),
        ("source", "referralsource", "leadsource", "referredby", "howdidyouhearaboutus"),
    ),
    Target("goals", gettext_lazy("Goals"), ("goals", "goal", "fitnessgoals", "objectives")),
    Target(
        "emergency_contact_name",
        gettext_lazy("Emergency contact"),
        ("emergencycontact", "emergencycontactname", "emergencyname"),
    ),
    Target(
        "emergency_contact_phone",
        gettext_lazy("Emergency contact phone"),
        ("emergencyphone", "emergencycontactphone", "emergencynumber", "emergencycontactnumber"),
    ),
    Target(
        "health_notes",
        gettext_lazy("Health notes"),
        ("healthnotes", "medicalnotes", "medical", "injuries", "medicalconditions", "health"),
        health=True,
    ),
)
TARGETS_BY_NAME = {target.name: target for target in TARGETS}

# What other software calls our statuses (lower-case, letters and digits only).
_STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("lead", "prospect", "enquiry", "inquiry"), ClientStatus.LEAD),
    **dict.fromkeys(
        ("trial", "trialing", "trialist", "intro", "introoffer", "freetrial", "guest"),
        ClientStatus.TRIAL,
    ),
    **dict.fromkeys(("active", "member", "current", "activemember"), ClientStatus.ACTIVE),
    **dict.fromkeys(
        ("paused", "pause", "frozen", "freeze", "onhold", "hold", "suspended"), ClientStatus.PAUSED
    ),
    **dict.fromkeys(
        (
            "churned",
            "inactive",
            "cancelled",
            "canceled",
            "terminated",
            "expired",
            "former",
            "lapsed",
            "left",
            "exmember",
        ),
        ClientStatus.CHURNED,
    ),
}

_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_SHORT_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?:[ T,].*)?$")
_NAMED_MONTH_FORMATS = (
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%a %b %d %Y",
)


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.casefold())


def targets_for(actor: User) -> list[Target]:
    """The fields `actor` may import: health notes only for roles that may see health data
    (front desk may not record them, as `client_create` also enforces)."""
    return [t for t in TARGETS if not t.health or has_role(actor, *HEALTH_DATA_ROLES)]


def mapping_guess(headers: Sequence[str], targets: Iterable[Target]) -> dict[str, str]:
    """{header: field} for the headers whose name says what they hold; each field once."""
    by_synonym = {synonym: t.name for t in targets for synonym in t.synonyms}
    mapping: dict[str, str] = {}
    for header in headers:
        name = by_synonym.get(_key(header))
        if name and name not in mapping.values():
            mapping[header] = name
    return mapping


def mapping_problems(mapping: Mapping[str, str], targets: Iterable[Target]) -> list[str]:
    """What is wrong with a column mapping, in words; empty when it can be used."""
    allowed = {t.name for t in targets}
    problems: list[str] = []
    used = [name for name in mapping.values() if name]
    for name in sorted(set(used) - allowed):
        target = TARGETS_BY_NAME.get(name)
        problems.append(
            _("You cannot import %(field)s.") % {"field": target.label if target else name}
        )
    for name in sorted({name for name in used if used.count(name) > 1}):
        target = TARGETS_BY_NAME.get(name)
        problems.append(
            _("Two columns are mapped to %(field)s; pick one.")
            % {"field": target.label if target else name}
        )
    if "first_name" not in used and FULL_NAME not in used:
        problems.append(_("Map a column to First name or to Full name."))
    if "email" not in used and "phone" not in used:
        problems.append(
            _("Map a column to Email or to Phone: that is how a later import recognises people.")
        )
    return problems


def _split_date(text: str, order: str) -> tuple[int, int, int] | None:
    iso = _ISO_DATE.match(text)
    if iso:
        return int(iso[1]), int(iso[2]), int(iso[3])
    short = _SHORT_DATE.match(text)
    if short:
        first, second, year = int(short[1]), int(short[2]), short[3]
        full_year = int(year)
        if len(year) == 2:
            # Two-digit years: the most recent year that is not in the future (born '85 is
            # 1985, joined '21 is 2021). Only the year counts, so any clock's will do: a
            # parser needs no gym.
            full_year += 2000
            if full_year > timezone.now().year:
                full_year -= 100
        if order == DateOrder.MONTH_FIRST:
            return full_year, first, second
        return full_year, second, first
    return None


def date_parse(text: str, order: str) -> date:
    """A date as other software writes it: ISO, 31/12/1990 or 12/31/1990 (by `order`),
    31.12.90, 31 Dec 1990, Dec 31, 1990; a time after it is ignored. ValueError if not."""
    text = text.strip()
    parts = _split_date(text, order)
    if parts is not None:
        return date(*parts)
    cleaned = re.sub(r"[,.]", " ", text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    for format_ in _NAMED_MONTH_FORMATS:
        try:
            return datetime.strptime(cleaned, format_).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    raise ValueError(text)


def date_order_guess(values: Iterable[str]) -> str:
    """Day or month first? A value like 25/12 settles it; year-first files say so too."""
    day_first = month_first = year_first = False
    for value in values:
        value = value.strip()
        if _ISO_DATE.match(value):
            year_first = True
            continue
        short = _SHORT_DATE.match(value)
        if short:
            day_first |= int(short[1]) > 12
            month_first |= int(short[2]) > 12
    if month_first and not day_first:
        return DateOrder.MONTH_FIRST
    if year_first and not day_first:
        return DateOrder.YEAR_FIRST
    return DateOrder.DAY_FIRST


def status_parse(text: str) -> str:
    status = _STATUS_WORDS.get(_key(text))
    if status is None:
        raise ValueError(text)
    return status


def tags_parse(text: str) -> list[str]:
    return sorted({tag.strip().lower() for tag in re.split(r"[,;|]", text) if tag.strip()})


def phone_digits(phone: str) -> str:
    """The digits a number is matched by (of its E.164 form when it parses)."""
    return phone_key(phone)


def _split_full_name(text: str) -> tuple[str, str]:
    text = re.sub(r"\s+", " ", text).strip()
    if "," in text:  # "Smith, Ann"
        last, _sep, first = text.partition(",")
        return first.strip(), last.strip()
    first, _sep, last = text.rpartition(" ")
    return (first, last) if first else (last, "")


@dataclass
class ParsedRow:
    number: int
    fields: dict[str, Any] = field(default_factory=dict)
    # field name ("" for the whole row) -> messages
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def email(self) -> str:
        return self.fields.get("email", "")

    @property
    def phone_digits(self) -> str:
        return phone_digits(self.fields.get("phone", ""))

    @property
    def name(self) -> str:
        return f"{self.fields.get('first_name', '')} {self.fields.get('last_name', '')}".strip()


def row_parse(
    number: int,
    cells: Sequence[str],
    *,
    headers: Sequence[str],
    mapping: Mapping[str, str],
    date_order: str,
) -> ParsedRow:
    """One record of the file as client fields, with every problem found, by field."""
    row = ParsedRow(number=number)
    if len(cells) > len(headers) and any(cell.strip() for cell in cells[len(headers) :]):
        row.add_error(
            "",
            _(
                "This row has more cells than the header has columns; a value probably "
                "contains the delimiter without quotes."
            ),
        )
    values: dict[str, str] = {}
    for position, header in enumerate(headers):
        name = mapping.get(header)
        if name and position < len(cells):
            values[name] = _DEFUSED.sub("", cells[position].strip())
    full_name = values.pop(FULL_NAME, "")
    if full_name:
        first, last = _split_full_name(full_name)
        values.setdefault("first_name", first)
        if not values.get("last_name"):
            values["last_name"] = last
    for name, text in values.items():
        if not text:
            continue
        try:
            row.fields[name] = _value(name, text, date_order)
        except ValueError:
            row.add_error(name, _invalid_message(name, text))
    row.fields.setdefault("first_name", "")
    if row.email:
        row.fields["email"] = row.email.lower()
    if not row.email and not row.fields.get("phone"):
        row.add_error(
            "email",
            _("Give an email or a phone number, so a later import can recognise this person."),
        )
    _model_validate(row)
    return row


def _value(name: str, text: str, date_order: str) -> Any:
    if name in DATE_FIELDS:
        return date_parse(text, date_order)
    if name == "status":
        return status_parse(text)
    if name == "tags":
        return tags_parse(text)
    if name in PHONE_FIELDS:
        # Stored as the CRM stores every number (E.164); a bad one is the row's error.
        try:
            return normalise_phone(text, field=name)
        except ValidationError as exc:
            raise ValueError(text) from exc
    return text


def _invalid_message(name: str, text: str) -> str:
    if name in DATE_FIELDS:
        return _("“%(value)s” is not a date (or not in the date order chosen).") % {"value": text}
    if name == "status":
        return _("“%(value)s” is not a status. Use one of: %(choices)s.") % {
            "value": text,
            "choices": ", ".join(ClientStatus.values),
        }
    if name in PHONE_FIELDS:
        return _("“%(value)s” is not a valid phone number (e.g. +44 7700 900123).") % {
            "value": text
        }
    return _("“%(value)s” is not valid.") % {"value": text}


def _model_validate(row: ParsedRow) -> None:
    """The model's own field rules, as `client_create`/`client_update` apply them; the unique
    email is left to matching (an existing email means an update, not an error)."""
    client = Client(**{name: value for name, value in row.fields.items() if name not in row.errors})
    try:
        client.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for message in messages:
                row.add_error("" if name == "__all__" else name, message)
    # The database's crm_client_churned_after_joined, checked without a query per row: a
    # churned client gets today as churned date, so cannot have joined later.
    joined = row.fields.get("joined_on")
    if row.fields.get("status") == ClientStatus.CHURNED and joined and joined > gym_today():
        row.add_error("joined_on", _("A churned client cannot have joined in the future."))
