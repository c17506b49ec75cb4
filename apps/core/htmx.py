"""HTMX requests, as django-htmx's middleware describes them on `request.htmx`."""

from __future__ import annotations

from django.http import HttpRequest


def is_partial(request: HttpRequest) -> bool:
    """HTMX asks for a fragment to swap in; a history restore (back button after the page left
    htmx's cache) wants the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request
