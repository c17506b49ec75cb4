"""The PAR-Q (Physical Activity Readiness Questionnaire): its standard seven yes/no questions,
defined once for the staff form, the client profile, the API and the admin. A client's answers
are stored in Client.parq_answers as {key: true/false}; an unanswered question is left out."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PARQ_QUESTIONS: tuple[tuple[str, Promise], ...] = (
    (
        "heart_condition",
        gettext_lazy(
            "Has your doctor ever said that you have a heart condition and that you should only "
            "do physical activity recommended by a doctor?"
        ),
    ),
    (
        "chest_pain_activity",
        gettext_lazy("Do you feel pain in your chest when you do physical activity?"),
    ),
    (
        "chest_pain_rest",
        gettext_lazy(
            "In the past month, have you had chest pain when you were not doing physical activity?"
        ),
    ),
    (
        "dizziness",
        gettext_lazy(
            "Do you lose your balance because of dizziness or do you ever lose consciousness?"
        ),
    ),
    (
        "bone_joint",
        gettext_lazy(
            "Do you have a bone or joint problem (for example, back, knee or hip) that could be "
            "made worse by a change in your physical activity?"
        ),
    ),
    (
        "blood_pressure_medication",
        gettext_lazy(
            "Is your doctor currently prescribing drugs (for example, water pills) for your "
            "blood pressure or heart condition?"
        ),
    ),
    (
        "other_reason",
        gettext_lazy("Do you know of any other reason why you should not do physical activity?"),
    ),
)
PARQ_KEYS: tuple[str, ...] = tuple(key for key, _question in PARQ_QUESTIONS)


def parq_answers_clean(answers: Any) -> dict[str, bool]:
    """`answers` checked against the questions: a dict of known keys to true/false (None, for
    "not answered", is dropped). Anything else is a ValidationError naming `parq_answers`."""
    if answers is None:
        return {}
    if not isinstance(answers, dict):
        raise ValidationError(
            {"parq_answers": [_("Give the PAR-Q answers as an object of question: true/false.")]}
        )
    errors: list[str] = []
    unknown = sorted(str(key) for key in answers if key not in PARQ_KEYS)
    if unknown:
        errors.append(
            _("Unknown PAR-Q questions: %(keys)s. Use: %(known)s.")
            % {"keys": ", ".join(unknown), "known": ", ".join(PARQ_KEYS)}
        )
    not_boolean = sorted(
        str(key)
        for key, value in answers.items()
        if key in PARQ_KEYS and value is not None and not isinstance(value, bool)
    )
    if not_boolean:
        errors.append(
            _("Answer each PAR-Q question with true or false: %(keys)s.")
            % {"keys": ", ".join(not_boolean)}
        )
    if errors:
        raise ValidationError({"parq_answers": errors})
    return {key: answers[key] for key in PARQ_KEYS if answers.get(key) is not None}


def parq_rows(answers: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """(question text, answer) of the answered questions, in the questionnaire's order; answers
    stored under keys no longer asked are shown with their key, so nothing is hidden."""
    answers = answers or {}
    rows: list[tuple[str, Any]] = [
        (str(question), answers[key]) for key, question in PARQ_QUESTIONS if key in answers
    ]
    rows.extend((str(key), value) for key, value in answers.items() if key not in PARQ_KEYS)
    return rows
