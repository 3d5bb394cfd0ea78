"""The serving policy (core.policy): arm overrides on every scenario, substitutes after a purchase and their windows,
stated preferences, the ranker decision, reasons. Django-free, on the synthetic shop."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from dragonrec.recommender.core.pipeline import Pipeline, PipelineConfig
from dragonrec.recommender.core.policy import choose_ranker, serving_policy
from dragonrec.recommender.core.reasons import explain
from dragonrec.recommender.core.types import PURCHASE, VIEW, Context, HistoryEvent, Preferences
from tests.recommender.core.synthetic_shop import make_shop

NOW = 1_000_000_000.0
DAY = 86400.0
SCENARIOS = ("home", "product", "cart", "similar", "complements")


@pytest.fixture(scope="module")
def shop():  # type: ignore[no-untyped-def]
    return make_shop()


def ctx_for(shop, scenario: str, **kwargs) -> Context:  # type: ignore[no-untyped-def]
    phone = shop.id("Galaxy phone 128GB")
    history = kwargs.pop("history", [HistoryEvent(phone, VIEW, NOW - 60)])
    anchors = [phone] if scenario != "home" else []
    return Context(scenario=scenario, history=history, anchor_ids=anchors, n=6, now=NOW, **kwargs)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_an_arms_category_cap_and_diversity_apply_on_every_scenario(shop, scenario) -> None:  # type: ignore[no-untyped-def]
    # given: a pipeline whose scenarios have their own re-rank settings (product and cart: cap 3)
    pipeline = Pipeline.default(products=shop.store, index=shop.index, embedder=shop.embedder)
    ctx = ctx_for(shop, scenario)
    if scenario == "complements":  # a phone's complements span two categories: a longer page relaxes any cap
        ctx = replace(ctx, n=2)
    # when: the arm overrides the cap and diversity
    policy = pipeline.policy(ctx, overrides={"category_cap": 1, "diversity": 0.4})
    # then: the policy carries them, and the served list holds at most one item per leaf category
    assert policy.rerank.category_cap == 1 and policy.rerank.diversity == 0.4
    items = pipeline.recommend(ctx, policy=policy).items
    counts = Counter(shop.category_of(i.product_id) for i in items)
    assert items and max(counts.values()) == 1, counts
    # while without the override the same request shows a category more than once
    plain = pipeline.recommend(replace(ctx, n=12)).items
    assert max(Counter(shop.category_of(i.product_id) for i in plain).values()) > 1


def test_a_purchase_keeps_its_substitutes_away_for_its_window_only(shop) -> None:  # type: ignore[no-untyped-def]
    config = PipelineConfig(substitute_window_days=30, substitute_windows={"Electronics > Phones": 7})
    phone = shop.id("Galaxy phone 128GB")

    def avoided(days_ago: float, scenario: str = "home", cfg: PipelineConfig = config) -> frozenset[str]:
        ctx = ctx_for(shop, scenario, history=[HistoryEvent(phone, PURCHASE, NOW - days_ago * DAY)])
        return serving_policy(ctx, cfg, products=shop.store).avoid_categories

    assert avoided(1) == {"Electronics > Phones"}
    assert avoided(1, "cart") == {"Electronics > Phones"}
    assert avoided(1, "product") == frozenset()  # the shopper is looking at phones on purpose
    assert avoided(8) == frozenset()  # past the phones' own 7 days
    repeat = replace(config, repeat_purchase_categories=("Electronics",))
    assert avoided(1, cfg=repeat) == frozenset()
    tea = shop.id("Green tea leaves")  # consumable
    ctx = ctx_for(shop, "home", history=[HistoryEvent(tea, PURCHASE, NOW - DAY)])
    assert serving_policy(ctx, config, products=shop.store).avoid_categories == frozenset()


def test_after_a_purchase_home_shows_what_goes_with_it_and_no_substitute(shop) -> None:  # type: ignore[no-untyped-def]
    pipeline = Pipeline.default(products=shop.store, index=shop.index, embedder=shop.embedder)
    phone = shop.id("Galaxy phone 128GB")
    ctx = Context(scenario="home", history=[HistoryEvent(phone, PURCHASE, NOW - 60)], n=6, now=NOW)
    items = pipeline.recommend(ctx).items
    categories = [shop.category_of(i.product_id) for i in items]
    assert "Electronics > Phones" not in categories, categories
    assert {"Electronics > Phone Cases", "Electronics > Chargers"} & set(categories[:3]), categories


def test_a_stated_price_ceiling_filters_and_is_relaxed_only_for_a_full_page(shop) -> None:  # type: ignore[no-untyped-def]
    products = [replace(p, price=float(10 + 10 * p.id)) for p in shop.products]
    priced = make_shop(products=products)
    pipeline = Pipeline.default(products=priced.store, index=priced.index, embedder=priced.embedder)
    ctx = Context(scenario="home", n=5, preferences=Preferences(price_max=100.0), now=NOW)
    result = pipeline.recommend(ctx)
    assert len(result.items) == 5 and result.relaxed == ()
    assert all(priced.products[i.product_id].price <= 100 for i in result.items)
    tight = pipeline.recommend(replace(ctx, preferences=Preferences(price_max=30.0)))
    assert len(tight.items) == 5 and tight.relaxed == ("price",)


def test_the_ranker_decision() -> None:
    assert choose_ranker(arm_policy=None, teacher_available=True) == "teacher"
    assert choose_ranker(arm_policy=None, teacher_available=False) == "local"
    assert choose_ranker(arm_policy="student:active", teacher_available=True) == "local"
    assert choose_ranker(arm_policy="teacher", teacher_available=False) == "local"
    assert choose_ranker(arm_policy="trending", teacher_available=True) == "trending"


def test_reasons_are_true_to_the_source(shop) -> None:  # type: ignore[no-untyped-def]
    phone, case = shop.id("Galaxy phone 128GB"), shop.id("Galaxy phone case leather")
    known = {p.id: p for p in shop.products}
    bought = Context(history=[HistoryEvent(phone, PURCHASE, NOW)])
    assert (
        explain(source="complements", anchor=phone, product=known[case], ctx=bought, products=known)
        == "Because you bought Galaxy phone 128GB"
    )
    viewed = Context(history=[HistoryEvent(phone, VIEW, NOW)])
    assert explain(source="complements", anchor=phone, product=known[case], ctx=viewed, products=known).startswith(
        "Goes well with"
    )
    assert explain(source="embedding", anchor=None, product=known[case], ctx=viewed, products=known) == (
        "Based on your recent browsing"
    )
    cold = Context(preferences=Preferences(categories=("Electronics > Phone Cases",)))
    assert explain(source="embedding", anchor=None, product=known[case], ctx=cold, products=known) == (
        "You said you like Phone Cases"
    )
    assert explain(source="trending", anchor=None, product=known[phone], ctx=Context(), products=known) == (
        "Popular in Electronics"
    )
