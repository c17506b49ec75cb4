from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.notifications.templating import (
    PLACEHOLDERS,
    placeholders_in,
    render_template,
    validate_template,
)


def test_known_placeholders_pass_and_render() -> None:
    text = "Hi {{ first_name }}, see you at {{gym_name}}!"
    validate_template(text, field="body")
    assert placeholders_in(text) == ["first_name", "gym_name"]
    assert render_template(text, {"first_name": "Ana", "gym_name": "Alpha"}) == (
        "Hi Ana, see you at Alpha!"
    )


def test_unknown_placeholder_is_named_on_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_template("Hi {{ frist_name }} and {{ nickname }}", field="body")
    messages = caught.value.message_dict["body"]
    assert "{{ frist_name }}" in messages[0]
    assert "{{ nickname }}" in messages[0]
    assert "first_name" in messages[0]  # what is available


def test_tags_and_attribute_access_are_refused() -> None:
    for text in ("{{ user.password }}", "{{ first_name|upper }}", "{{ }}"):
        with pytest.raises(ValidationError) as caught:
            validate_template(text, field="text")
        assert "text" in caught.value.message_dict
    # Django template tags are plain text here: nothing runs.
    assert render_template("{% load x %}{{ first_name }}", {"first_name": "A"}) == ("{% load x %}A")


def test_allowed_subset() -> None:
    validate_template("{{ first_name }}", field="t", allowed=["first_name"])
    with pytest.raises(ValidationError):
        validate_template("{{ unsubscribe_url }}", field="t", allowed=["first_name"])


def test_html_escaping_when_asked() -> None:
    context = {"first_name": "<b>Ana</b> & co"}
    assert render_template("{{ first_name }}", context) == "<b>Ana</b> & co"
    assert render_template("{{ first_name }}", context, html=True) == (
        "&lt;b&gt;Ana&lt;/b&gt; &amp; co"
    )


def test_every_placeholder_has_a_description() -> None:
    assert all(str(description) for description in PLACEHOLDERS.values())
