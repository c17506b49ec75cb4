"""A photo's files go with its row, however the row goes: photo_delete, a client's deletion
(CASCADE) or a person's erasure (apps.privacy deletes the rows through the ORM)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from apps.progress.models import ProgressPhoto


@receiver(post_delete, sender=ProgressPhoto, dispatch_uid="progress_photo_files_delete")
def delete_photo_files(sender: type[ProgressPhoto], instance: ProgressPhoto, **kwargs: Any) -> None:
    from apps.progress.services import photo_files_delete_on_commit

    photo_files_delete_on_commit(instance)
