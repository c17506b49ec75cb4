"""Celery tasks for MyFitnessPal: none. An export holds years of meals in a few hundred KB and is
read within the upload's request, so the person uploading sees at once what was imported or
which line of the file is wrong."""

from __future__ import annotations
