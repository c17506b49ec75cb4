"""`{% staff_navigation as sections %}`: the staff app's navigation for the page being shown."""

from __future__ import annotations

from typing import Any

from django import template

from apps.dashboard.navigation import NavSection, staff_navigation

register = template.Library()


@register.simple_tag(takes_context=True, name="staff_navigation")
def staff_navigation_tag(context: dict[str, Any]) -> list[NavSection]:
    request = context.get("request")
    viewer = context.get("viewer")
    if request is None or viewer is None:
        return []
    return staff_navigation(viewer=viewer, path=request.path)
