"""Server-side sorting of long lists (`?sort=<key>` or `?sort=-<key>`): each list's selector
names the keys it accepts and the columns each one orders by; anything else is ignored and
the list keeps its default order, so a query string can never order by an arbitrary field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import QueryDict

SortKeys = Mapping[str, Sequence[str]]


def sort_value(raw: str | None, allowed: SortKeys) -> str:
    """`raw` if it names an allowed key (with an optional leading "-"), else ""."""
    raw = (raw or "").strip()
    return raw if raw.removeprefix("-") in allowed else ""


def sort_queryset(queryset: QuerySet, sort: str, allowed: SortKeys) -> QuerySet:  # type: ignore[type-arg]
    """Order `queryset` by the columns of the allowed key `sort` ("-key": descending), with the
    primary key last so pages never shuffle; an unknown key leaves the queryset as it is."""
    sort = sort_value(sort, allowed)
    if not sort:
        return queryset
    descending = sort.startswith("-")
    fields = [*allowed[sort.removeprefix("-")], "pk"]
    return queryset.order_by(*(f"-{name}" if descending else name for name in fields))


@dataclass(frozen=True)
class SortLink:
    """A column header's link: where it goes, and how the list is sorted by it now."""

    url: str
    state: str  # "ascending", "descending" or "" (not sorted by this column)


def sort_links(params: QueryDict, sort: str, allowed: SortKeys) -> dict[str, SortLink]:
    """For each allowed key, the query string that sorts by it (the other filters kept, back
    to the first page); clicking the current column reverses it."""
    links = {}
    base = params.copy()
    base.pop("page", None)
    for key in allowed:
        query = base.copy()
        query["sort"] = f"-{key}" if sort == key else key
        state = "ascending" if sort == key else "descending" if sort == f"-{key}" else ""
        links[key] = SortLink(url=f"?{urlencode(sorted(query.items()))}", state=state)
    return links
