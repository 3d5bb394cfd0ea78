"""Category paths ("Electronics > Monitors"): the one place that knows their separator and what "in a category"
means. Django-free (the ranking core uses it); `category_q` imports Django only when called.

    >>> category_path(["Electronics", " Monitors "])          # "Electronics > Monitors"
    >>> category_within("Electronics > Monitors", ["Electronics"])   # True: at or below a prefix
    >>> category_leaf("Electronics > Monitors")               # "Monitors"
    >>> Product.objects.filter(category_q("category__path", ["Electronics"]))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.models import Q

SEPARATOR = " > "


def category_parts(path: str) -> list[str]:
    """The names along a path, stripped, empty ones dropped (imports write "A>B", "A > B " and "A >  > B")."""
    return [part.strip() for part in path.split(SEPARATOR.strip()) if part.strip()]


def category_path(parts: Iterable[str]) -> str:
    """The path of the given names, normalised like `category_parts`."""
    return SEPARATOR.join(category_parts(SEPARATOR.join(parts)))


def category_leaf(path: str) -> str:
    """The last name of a path ("" for "")."""
    return path.rsplit(SEPARATOR, 1)[-1] if path else ""


def category_within(path: str, prefixes: Sequence[str]) -> bool:
    """Whether `path` is one of `prefixes` or lies below one of them ("Sports > Running" is below "Sports", not
    below "Sport")."""
    return any(path == prefix or path.startswith(prefix + SEPARATOR) for prefix in prefixes)


def category_q(field: str, prefixes: Sequence[str]) -> Q:
    """`category_within` as a filter on a path column (an empty `prefixes` filters nothing out)."""
    from django.db.models import Q

    q = Q()
    for prefix in prefixes:
        q |= Q(**{field: prefix}) | Q(**{f"{field}__startswith": prefix + SEPARATOR})
    return q
