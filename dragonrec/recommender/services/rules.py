"""Merchant rules (admin) turned into the re-rank stage's RerankRules."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from dragonrec.categories import category_q
from dragonrec.recommender.adapters import product_adapter
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.caching import ProcessCache
from dragonrec.recommender.core.rerank import RerankRules
from dragonrec.recommender.models import MerchantRule

MAX_CATEGORY_EXPANSION = 5000  # a category rule touching more products than this is applied to the first 5000


def _category_product_ids(path: str) -> list[int]:
    adapter = product_adapter()
    field = adapter.category_path_field
    return list(
        adapter.queryset().filter(category_q(field, [path])).values_list("pk", flat=True)[:MAX_CATEGORY_EXPANSION]
    )


_rules: ProcessCache[str, RerankRules] = ProcessCache(
    "merchant rules", ttl_s=lambda: float(recommender_settings.SNAPSHOT_TTL_S)
)


def merchant_rules_for(*, scenario: str) -> RerankRules:
    """The active rules for a scenario, cached per process for SNAPSHOT_TTL_S like the catalog (a merchant's edit
    shows within seconds; one query saved per request)."""
    return _rules.get(scenario, lambda _: _merchant_rules(scenario=scenario))


def _merchant_rules(*, scenario: str) -> RerankRules:
    now = timezone.now()
    rules = (
        MerchantRule.objects.filter(is_active=True)
        .filter(Q(scenario="") | Q(scenario=scenario))
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    )
    exclude: set[int] = set()
    pins: dict[int, int] = {}
    boosts: dict[int, float] = {}
    categories: list[str] = []
    price_min: float | None = None
    price_max: float | None = None
    for rule in rules:
        targets = (
            [rule.product_id]
            if rule.product_id
            else (_category_product_ids(rule.category_path) if rule.category_path else [])
        )
        if rule.kind == MerchantRule.Kind.BLOCK:
            exclude.update(targets)
        elif rule.kind == MerchantRule.Kind.BOOST:
            for pid in targets:
                boosts[pid] = boosts.get(pid, 1.0) * max(rule.multiplier, 0.01)
        elif rule.kind == MerchantRule.Kind.PIN and rule.product_id:
            pins[rule.product_id] = max(rule.position, 1) - 1
        elif rule.kind == MerchantRule.Kind.RESTRICT:
            if rule.category_path:
                categories.append(rule.category_path)
            if rule.price_min is not None:
                price_min = max(price_min or 0.0, float(rule.price_min))
            if rule.price_max is not None:
                price_max = min(price_max if price_max is not None else float("inf"), float(rule.price_max))
    return RerankRules(
        exclude=frozenset(exclude),
        pins=pins,
        boosts=boosts,
        categories=tuple(categories),
        price_min=price_min,
        price_max=price_max,
    )
