"""Page-number pagination that refuses a page or page size that is not a number: a 400 naming
the query parameter, where DRF would quietly use the default size or answer "Invalid page."
with a 404 for what is a bad request."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


def _positive_int(request: Any, name: str) -> int | None:
    if name not in request.query_params:
        return None
    raw = request.query_params[name]
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise ValidationError({name: [_("Must be a whole number, 1 or more.")]})
    return int(raw)


class StandardPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        # Checked first: a page past the last one stays DRF's 404.
        _positive_int(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Any) -> int:
        size = _positive_int(request, self.page_size_query_param)
        if size is None:
            return self.page_size
        return min(size, self.max_page_size)
