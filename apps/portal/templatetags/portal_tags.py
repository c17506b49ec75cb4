"""Template helpers of the client portal."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def url_if_exists(name: str) -> str:
    """The URL named `name`, or "" when no page has that name, so the portal's navigation never
    links to a page that is not there."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""
