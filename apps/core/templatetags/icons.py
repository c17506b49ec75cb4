"""`{% icon "name" %}`: one icon of the vendored Lucide set (static/vendor/lucide/sprite.svg).

A sprite referenced with <use> keeps the pages free of inline SVG paths and lets the browser
cache every icon in one file; the strict CSP allows it because the sprite is same-origin."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

SPRITE = "vendor/lucide/sprite.svg"


@register.simple_tag
def icon(name: str, css_class: str = "") -> SafeString:
    """A decorative icon: hidden from screen readers, so the text beside it names the thing."""
    classes = f"icon {css_class}".strip()
    return format_html(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        classes,
        static(SPRITE),
        name,
    )
