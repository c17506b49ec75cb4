from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SUBDOMAIN_MAX_LENGTH = 63
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def validate_subdomain(value: str) -> None:
    """A gym's subdomain: one lower-case DNS label that is not reserved."""
    if not value:
        raise ValidationError(_("Choose a subdomain for your gym."), code="required")
    if len(value) > SUBDOMAIN_MAX_LENGTH:
        raise ValidationError(
            _("A subdomain can have at most %(max)d characters.") % {"max": SUBDOMAIN_MAX_LENGTH},
            code="max_length",
        )
    if value != value.lower():
        raise ValidationError(_("Use lower-case letters only."), code="upper_case")
    if not _DNS_LABEL.match(value):
        raise ValidationError(
            _(
                "Use lower-case letters, digits and hyphens; start and end with a letter "
                "or a digit."
            ),
            code="invalid",
        )
    if value in settings.RESERVED_SUBDOMAINS or value.startswith(("pg-", "gym-spare-")):
        raise ValidationError(_("This subdomain is reserved."), code="reserved")
    if value.replace("-", "_") == settings.TENANT_BASE_SCHEMA:
        raise ValidationError(_("This subdomain is reserved."), code="reserved")
