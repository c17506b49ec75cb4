"""Every email the product sends goes through the notification service (apps/notifications):
its branded layout, the gym's sender, preferences, quiet hours, suppression and the delivery
log. Nothing else under apps/ may reach Django's mail API directly; allauth's account mail is
built by apps.notifications.email.build_email in apps/accounts/adapters.py."""

from __future__ import annotations

import ast
from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "apps"
ALLOWED = {APPS / "notifications"}
MAIL_NAMES = {"send_mail", "send_mass_mail", "mail_admins", "mail_managers"}
MAIL_CLASSES = {"EmailMessage", "EmailMultiAlternatives"}


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _offences(path: Path, root: Path = APPS.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("django.core.mail"):
                names.append(node.module)
            elif node.module == "django.core" and any(a.name == "mail" for a in node.names):
                names.append("django.core.mail")
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("django.core.mail")]
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in MAIL_NAMES | MAIL_CLASSES and not (
                isinstance(func, ast.Attribute) and ast.unparse(func.value) == "super()"
            ):
                names.append(f"{called}()")
        if names and not _type_checking_only(node, parents):
            found += [f"{path.relative_to(root)}:{node.lineno} {name}" for name in names]
    return found


def test_no_app_sends_email_around_the_notification_service() -> None:
    offences = []
    for path in sorted(APPS.rglob("*.py")):
        if any(allowed in path.parents for allowed in ALLOWED) or "migrations" in path.parts:
            continue
        offences += _offences(path)
    assert offences == [], (
        "Send email with apps.notifications.services.notify() (or build_email for mail that "
        "is not a notification): " + ", ".join(offences)
    )


def test_the_scan_finds_a_direct_send(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from django.core.mail import send_mail\n"
        "from django.core import mail\n"
        "if TYPE_CHECKING:\n"
        "    from django.core.mail import EmailMessage\n"
        "send_mail('s', 'b', None, ['a@example.com'])\n"
    )
    found = _offences(sample, root=tmp_path)
    assert [entry.split(" ", 1)[1] for entry in found] == [
        "django.core.mail",
        "django.core.mail",
        "send_mail()",
    ]
