"""What progress holds about a person, for export and erasure (apps.privacy).

Both are about the person only, so erasure deletes them; deleting a photo row removes its files
(apps.progress.signals). The export has the photos' rows (pose, date, size) and the image files
themselves, under files/progress_photos/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apps.privacy.registry import personal_data


def _photo_files(user: Any) -> Iterator[tuple[str, bytes]]:
    from apps.progress.selectors import photo_export_files

    return photo_export_files(user=user)


personal_data.register("progress.BodyMeasurement", user_path="client__user")
personal_data.register(
    "progress.ProgressPhoto",
    user_path="client__user",
    export_fields=["id", "pose", "taken_on", "width", "height", "size_bytes", "created_at"],
    files_of=_photo_files,
)
