"""Text that people write (campaigns, automations, SMS) with placeholders: `{{ first_name }}`.

Deliberately not Django's template engine: an author gets no tags, filters or attribute access,
only the names in PLACEHOLDERS (or the `allowed` subset a feature offers), so a template cannot
reach anything the sender did not put in its context. An unknown name is refused when the text
is saved or sent, naming each one, never silently rendered as nothing.

    validate_template(text, field="body")            # raises ValidationError({"body": [...]})
    render_template(text, {"first_name": "Ana"})     # plain text
    render_template(text, context, html=True)        # values escaped for HTML
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

# `{{ name }}`: spaces inside the braces are optional; anything else between double braces is
# a mistake the author is told about (see _BRACES).
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

PLACEHOLDERS: dict[str, str] = {
    "first_name": gettext_lazy("The recipient's first name"),
    "last_name": gettext_lazy("The recipient's last name"),
    "full_name": gettext_lazy("The recipient's full name"),
    "gym_name": gettext_lazy("The gym's name"),
    "trainer_name": gettext_lazy("The name of the recipient's trainer"),
    "portal_url": gettext_lazy("A link to the client portal"),
    "unsubscribe_url": gettext_lazy("A link to stop receiving marketing messages"),
}


def placeholders_in(text: str) -> list[str]:
    """The placeholder names `text` uses, in order of first use."""
    seen: dict[str, None] = {}
    for match in _PLACEHOLDER.finditer(text or ""):
        seen.setdefault(match.group(1), None)
    return list(seen)


def validate_template(text: str, *, field: str, allowed: Iterable[str] | None = None) -> None:
    """Raise ValidationError({field: [...]}) naming every unknown or malformed placeholder."""
    known = set(PLACEHOLDERS if allowed is None else allowed)
    errors: list[str] = []
    malformed = [
        match.group(0)
        for match in _BRACES.finditer(text or "")
        if not _PLACEHOLDER.fullmatch(match.group(0))
    ]
    if malformed:
        errors.append(
            _("This is not a placeholder: %(text)s. Write a name like {{ first_name }}.")
            % {"text": ", ".join(malformed)}
        )
    unknown = [name for name in placeholders_in(text) if name not in known]
    if unknown:
        errors.append(
            ngettext(
                "Unknown placeholder: %(names)s. Available: %(available)s.",
                "Unknown placeholders: %(names)s. Available: %(available)s.",
                len(unknown),
            )
            % {
                "names": ", ".join(f"{{{{ {name} }}}}" for name in unknown),
                "available": ", ".join(sorted(known)),
            }
        )
    if errors:
        raise ValidationError({field: errors}, code="unknown_placeholder")


def render_template(text: str, context: Mapping[str, object], *, html: bool = False) -> str:
    """`text` with each `{{ name }}` replaced by context[name] (escaped when `html`). Names the
    context lacks become empty: validate first so that never happens by mistake."""

    def value(match: re.Match[str]) -> str:
        raw = context.get(match.group(1), "")
        text_value = "" if raw is None else str(raw)
        return escape(text_value) if html else text_value

    return _PLACEHOLDER.sub(value, text or "")
