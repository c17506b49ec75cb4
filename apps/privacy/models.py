"""Records of the data-rights requests we carried out."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.fields import EncryptedTextField


class ErasureRecord(models.Model):
    """Proof that a person's data was erased: which account, when, by whom and why. It names
    nobody: the account it points to is the anonymised one."""

    # SET_NULL: the record must outlive the account should it ever be deleted outright.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("erased user"),
    )
    # The account id survives even if `user` is later nulled.
    user_pk = models.BigIntegerField(_("erased user id"))
    erased_at = models.DateTimeField(_("erased at"), default=timezone.now)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("erased by"),
    )
    # Encrypted: a reason often quotes the person's request, which may name them.
    reason = EncryptedTextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        ordering = ("-erased_at",)

    def __str__(self) -> str:
        return f"#{self.user_pk} ({self.erased_at:%Y-%m-%d})"
