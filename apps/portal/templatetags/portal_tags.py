"""Template helpers of the client portal."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def url_if_exists(name: str) -> str:
    """The URL named `name`, or "" while no page has that name: the portal's navigation keeps
    slots for pages that later issues add (schedule, progress) without linking to nothing."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""
