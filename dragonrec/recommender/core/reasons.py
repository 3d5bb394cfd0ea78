"""The reason shown beside each recommended item: a short shopper-facing sentence true to what produced it (its
source, the product it was found from, the shopper's statement, the item's department). The serving policy decides
what is served; this says why, and never gives a browsing reason to a shopper who has browsed nothing."""

from __future__ import annotations

from collections.abc import Mapping

from dragonrec.categories import category_within
from dragonrec.recommender.core.rerank import BOUGHT_EVENT_TYPES
from dragonrec.recommender.core.types import Context, Product, ProductId


def explain(
    *,
    source: str,
    anchor: ProductId | None,
    product: Product | None,
    ctx: Context,
    products: Mapping[ProductId, Product],
) -> str:
    """A short shopper-facing sentence true to what produced the item: its source, the product it was found from
    (bought or looked at), the shopper's statement, or the item's department. Never a browsing reason to a shopper
    with no history."""
    anchor_product = products.get(anchor) if anchor is not None else None
    bought = {e.product_id for e in ctx.history if e.event_type in BOUGHT_EVENT_TYPES}
    if source == "complements" and anchor_product is not None:
        if anchor in bought and anchor not in ctx.anchor_ids:
            return f"Because you bought {anchor_product.title}"
        return f"Goes well with {anchor_product.title}"
    if source == "similar" and anchor_product is not None:
        return f"Similar to {anchor_product.title}"
    if source == "pinned":
        return "Picked by the shop"
    stated = _stated_reason(product, ctx)
    if source not in ("trending", "complements", "similar") and ctx.history:
        return "Based on your recent browsing"
    if stated:
        return stated
    department = product.category.split(" > ", 1)[0] if product is not None and product.category else ""
    return f"Popular in {department}" if department else "Popular right now"


def _stated_reason(product: Product | None, ctx: Context) -> str:
    if product is None:
        return ""
    prefs = ctx.preferences
    for path in prefs.categories:
        if product.category and category_within(product.category, [path]):
            return f"You said you like {path.rsplit(' > ', 1)[-1]}"
    for brand in prefs.brands:
        if product.brand and product.brand.casefold() == brand.casefold():
            return f"You said you like {product.brand}"
    return ""
