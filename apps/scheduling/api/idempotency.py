"""Idempotency-Key for POSTs that create bookings (and later, money)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.scheduling.models import IdempotencyKey

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Retrying with the same key returns the first answer and books nothing twice.",
)


def idempotent(request: Request, handler: Callable[[], Response]) -> Response:
    """Answer a booking POST once per Idempotency-Key: claim the key, answer, store the answer;
    a retry with the same key (same user, same path) gets the stored answer."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        return handler()
    if len(key) > 255:
        raise ValidationError({IDEMPOTENCY_HEADER: [_("Use at most 255 characters.")]})
    with transaction.atomic():
        # Claim the key first: a concurrent retry waits on the unique index until this
        # transaction ends, then finds the stored answer. A failed booking rolls the claim
        # back, so a retry after an error is tried again.
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    key=key,
                    user=request.user,
                    path=request.path,
                    response_status=0,
                    response_body={},
                )
        except IntegrityError:
            record = IdempotencyKey.objects.get(key=key, user=request.user)
            if record.path != request.path:
                raise ValidationError(
                    {IDEMPOTENCY_HEADER: [_("This key was used for another request.")]}
                ) from None
            return Response(record.response_body, status=record.response_status)
        response = handler()
        record.response_status = response.status_code
        record.response_body = response.data
        record.save(update_fields=["response_status", "response_body"])
    return response
