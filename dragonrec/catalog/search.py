"""The catalog's search index: the stored, GIN-indexed `search_vector` of each product (writes) and the ranked
catalog filter behind `GET /api/products/?search=` (reads).

The vector is written here and only here, from the same normalised text (`dragonrec.textsearch.search_document`)
the query side uses: by the catalog import for each batch it upserts, and by the receivers of Product/Category saves
(admin edits, factories, a shop's scripts). Anything that writes product text without `save()` (a queryset
`update()`, raw SQL) calls `product_search_index_update` itself, or runs `manage.py catalog_search_reindex`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from dragonrec.catalog.models import Category, Product
from dragonrec.textsearch import VECTOR_SQL, SearchFields, lexical_queryset, search_document

INDEX_BATCH = 1000  # products per UPDATE: ~50 ms on the embedded server, a short lock
SEARCH_FIELDS = SearchFields()  # catalog.Product's own field names, with its stored vector


def _index_batch(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    values, params = [], []
    for row in rows:
        doc = search_document(
            title=row["title"] or "",
            brand=row["brand"] or "",
            category=row["category__path"] or "",
            description=row["description"] or "",
        )
        values.append(f"(%s, {VECTOR_SQL})")
        params += [row["pk"], doc["A"], doc["B"], doc["D"]]
    table = connection.ops.quote_name(Product._meta.db_table)
    sql = (
        f"UPDATE {table} AS p SET search_vector = v.vector FROM (VALUES {', '.join(values)}) AS v(id, vector) "
        "WHERE p.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@transaction.atomic
def product_search_index_update(*, ids: Iterable[int] | None = None) -> int:
    """Write the search vector of the given products (all of them when `ids` is None); returns how many."""
    qs = Product.objects.order_by("pk")
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    done = 0
    batch: list[dict[str, Any]] = []
    for row in qs.values("pk", "title", "brand", "description", "category__path").iterator(chunk_size=INDEX_BATCH):
        batch.append(dict(row))
        if len(batch) >= INDEX_BATCH:
            _index_batch(batch)
            done += len(batch)
            batch = []
    _index_batch(batch)
    return done + len(batch)


def product_search_index_update_category(*, category: Category) -> int:
    """A category was renamed or moved: re-index the products in it and below it (their path is in the vector)."""
    ids = Product.objects.filter(
        Q(category__path=category.path) | Q(category__path__startswith=category.path + " > ")
    ).values_list("pk", flat=True)
    return product_search_index_update(ids=list(ids))


def product_search_filter(queryset: QuerySet[Product], query: str) -> QuerySet[Product]:
    """The catalog filter's `search`: products containing every word (the last one also as a prefix, as typed in
    a filter box), ranked by relevance, or the product whose sku is exactly the query. Typo correction and semantic
    recall are the search API's (`GET /api/search/`)."""
    sku = query.strip()
    if sku and " " not in sku and "\x00" not in sku:  # a shopkeeper pasting a sku gets that product
        exact = queryset.filter(sku=sku)
        if exact.exists():
            return exact
    matches: QuerySet[Product] = lexical_queryset(queryset, query, fields=SEARCH_FIELDS, prefix=True)
    return matches
