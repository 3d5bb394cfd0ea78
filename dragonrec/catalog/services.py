"""Writes to the catalog: categories from paths, product upserts, and the import of the common dataset format."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from dragonrec.catalog.models import Category, Product
from dragonrec.catalog.search import product_search_index_update
from dragonrec.categories import category_parts, category_path
from dragonrec.text_validation import bad_text_error, printable

IMPORT_BATCH = 1000  # rows per transaction/bulk upsert: ~0.1 s on the embedded server, small enough to stream
MAX_TITLE = Product._meta.get_field("title").max_length or 500
MAX_SKU = Product._meta.get_field("sku").max_length or 64


def category_get_or_create_path(*, path: str, cache: dict[str, Category] | None = None) -> Category | None:
    """The leaf Category for "A > B > C", creating missing ancestors. `cache` speeds up imports."""
    names = category_parts(path)
    if not names:
        return None
    cache = cache if cache is not None else {}
    parent: Category | None = None
    current = ""
    for name in names:
        current = category_path([current, name])
        node = cache.get(current)
        if node is None:
            node = Category.objects.filter(path=current).first()
            if node is None:
                node = Category(name=name[:200], parent=parent)
                node.save()
            cache[current] = node
        parent = node
    return parent


@dataclass
class RowError:
    line: int
    reason: str
    sku: str = ""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    aborted: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ProductRow:
    sku: str
    fields: dict[str, Any]
    category_path: str


def _clean_row(line: int, raw: dict[str, Any]) -> ProductRow | RowError:
    """Validate one input row; returns a reason instead of raising so one bad row never stops the rest."""
    if problem := bad_text_error(raw):
        # a NUL or a lone surrogate (bytes that are not UTF-8 read with surrogateescape): PostgreSQL cannot store it
        return RowError(line, problem, printable(raw.get("item_id") or raw.get("sku") or "", limit=MAX_SKU))
    sku = str(raw.get("item_id") or raw.get("sku") or "").strip()
    if not sku:
        return RowError(line, "missing item_id/sku")
    if len(sku) > MAX_SKU:
        return RowError(line, f"sku longer than {MAX_SKU} characters", sku[:MAX_SKU])
    title = str(raw.get("title") or "").strip()
    if not title:
        return RowError(line, "missing title", sku)
    price: Decimal | None = None
    if raw.get("price") not in (None, ""):
        try:
            price = Decimal(str(raw["price"]))
        except InvalidOperation:
            return RowError(line, f"price is not a number: {raw['price']!r}", sku)
        if not price.is_finite() or price < 0:
            return RowError(line, f"price must be a non-negative number: {raw['price']!r}", sku)
        price = price.quantize(Decimal("0.01"))
    stock_raw = raw.get("stock", raw.get("stock_quantity"))
    stock: int | None = None
    if stock_raw not in (None, ""):
        try:
            stock = int(str(stock_raw))
        except ValueError:
            return RowError(line, f"stock is not an integer: {stock_raw!r}", sku)
    attributes = raw.get("attributes") or {}
    if isinstance(attributes, str):
        try:
            attributes = json.loads(attributes)
        except ValueError:
            return RowError(line, "attributes is not valid JSON", sku)
    if not isinstance(attributes, dict):
        return RowError(line, "attributes must be a JSON object", sku)
    fields: dict[str, Any] = {
        "title": title[:MAX_TITLE],
        "description": str(raw.get("description") or "").strip(),
        "brand": str(raw.get("brand") or "").strip()[:200],
        "price": price,
        "currency": (str(raw.get("currency") or "USD").strip().upper() or "USD")[:3],
        "attributes": attributes,
        "image_url": str(raw.get("image_url") or "").strip()[:1000],
    }
    if stock is not None:
        fields["stock_quantity"] = stock
        fields["in_stock"] = stock > 0
    return ProductRow(sku=sku, fields=fields, category_path=category_path([str(raw.get("category") or "")]))


def _read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row dict) or (line number, error text) for .jsonl/.json-lines and .csv files. Bytes that are
    not UTF-8 come through as lone surrogates (surrogateescape), which `_clean_row` rejects for their row alone."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8", errors="surrogateescape") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                yield reader.line_num, dict(row)
        return
    with path.open(encoding="utf-8", errors="surrogateescape") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, f"invalid JSON: {exc.msg}"
                continue
            yield number, obj if isinstance(obj, dict) else "a line must be a JSON object"


def catalog_import(
    *,
    path: Path,
    strict: bool = False,
    batch_size: int = IMPORT_BATCH,
    progress: Callable[[int], None] | None = None,
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> ImportReport:
    """Upsert products by sku from items.jsonl (the ../shared/data format) or CSV with the same columns.

    Idempotent: running it twice changes nothing the second time. Each bad row is reported with its line number
    and reason and the good rows are imported; with `strict`, any bad row aborts the import before anything is
    written (the file is validated in full first). `transform`, when given, rewrites each row before it is checked
    (the demo shop points image_url at its own pictures this way).
    """
    report = ImportReport()
    rows: list[ProductRow] = []
    seen: dict[str, int] = {}
    for line, raw in _read_rows(path):
        if transform is not None and not isinstance(raw, str):
            raw = transform(raw)
        cleaned = RowError(line, raw) if isinstance(raw, str) else _clean_row(line, raw)
        if isinstance(cleaned, ProductRow):
            if cleaned.sku in seen:
                cleaned = RowError(line, f"duplicate sku (first seen on line {seen[cleaned.sku]})", cleaned.sku)
            else:
                seen[cleaned.sku] = line
        if isinstance(cleaned, RowError):
            report.errors.append(cleaned)
        else:
            rows.append(cleaned)
    if strict and report.errors:
        report.aborted = True
        return report
    categories: dict[str, Category] = {}
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        created, updated = _upsert_batch(batch, categories)
        report.created += created
        report.updated += updated
        if progress:
            progress(len(batch))
    return report


@transaction.atomic
def _upsert_batch(batch: list[ProductRow], categories: dict[str, Category]) -> tuple[int, int]:
    existing = dict(Product.objects.filter(sku__in=[r.sku for r in batch]).values_list("sku", "id"))
    now = timezone.now()
    objs = []
    for row in batch:
        category = category_get_or_create_path(path=row.category_path, cache=categories)
        objs.append(Product(sku=row.sku, category=category, updated_at=now, created_at=now, **row.fields))
    update_fields = sorted({f for row in batch for f in row.fields} | {"category", "updated_at"})
    # Unchanged rows would still bump updated_at and so look dirty to the embedder; skip rows equal to the DB.
    unchanged = _unchanged_skus(batch, categories) if existing else set()
    objs = [o for o in objs if o.sku not in unchanged]
    if objs:
        Product.objects.bulk_create(objs, update_conflicts=True, unique_fields=["sku"], update_fields=update_fields)
        # bulk_create sends no post_save: the search vectors of the batch are written here, in its transaction
        product_search_index_update(
            ids=Product.objects.filter(sku__in=[o.sku for o in objs]).values_list("pk", flat=True)
        )
    created = sum(1 for r in batch if r.sku not in existing)
    return created, len([o for o in objs if o.sku in existing])


def _unchanged_skus(batch: list[ProductRow], categories: dict[str, Category]) -> set[str]:
    by_sku = {p.sku: p for p in Product.objects.filter(sku__in=[r.sku for r in batch])}
    same = set()
    for row in batch:
        current = by_sku.get(row.sku)
        if current is None:
            continue
        cat = categories.get(row.category_path) if row.category_path else None
        if current.category_id != (cat.id if cat else None):
            continue
        if all(getattr(current, k) == v for k, v in row.fields.items()):
            same.add(row.sku)
    return same


def products_set_active(*, ids: Iterable[int], active: bool) -> int:
    return Product.objects.filter(id__in=list(ids)).update(is_active=active, updated_at=timezone.now())
