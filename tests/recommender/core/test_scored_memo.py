"""The scored-candidates memo (Pipeline.scored with a ScoredMemo): a hit is exactly what a fresh computation
gives, every input of the scored list is in its key, and the per-request parts (rules, exploration) stay fresh."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dragonrec.recommender.core.exploration import ExplorationConfig
from dragonrec.recommender.core.pipeline import Pipeline, ScoredMemo
from dragonrec.recommender.core.rankers import EmbeddingRanker
from dragonrec.recommender.core.rerank import RerankRules
from dragonrec.recommender.core.types import VIEW, Context, HistoryEvent, ProductId
from tests.recommender.core.synthetic_shop import Shop, make_shop


def _pipeline(shop: Shop) -> Pipeline:
    return Pipeline.default(products=shop.store, index=shop.index, embedder=shop.embedder)


def _ids(rec) -> list[int]:  # type: ignore[no-untyped-def]
    return [i.product_id for i in rec.items]


def _returning(shop: Shop, user_key: str = "s:a") -> Context:
    phone = shop.in_category("Electronics > Phones")[0]
    return Context(n=8, history=[HistoryEvent(phone, VIEW, 1.0)], user_key=user_key)


def test_a_hit_is_the_list_a_fresh_computation_gives_and_skips_the_ranker() -> None:
    shop = make_shop()
    pipeline, memo = _pipeline(shop), ScoredMemo(ttl_s=60, max_entries=100)
    fresh = pipeline.recommend(_returning(shop))

    first = pipeline.recommend(_returning(shop), memo=memo)
    second = pipeline.recommend(_returning(shop), memo=memo)

    assert _ids(first) == _ids(second) == _ids(fresh)
    assert [i.score for i in second.items] == [i.score for i in fresh.items]
    assert (memo.hits, memo.misses) == (1, 1)


def test_every_input_of_the_scored_list_is_in_its_key() -> None:
    shop = make_shop()
    pipeline, memo = _pipeline(shop), ScoredMemo(ttl_s=60, max_entries=100)
    ctx = _returning(shop)
    pipeline.recommend(ctx, memo=memo)
    kettle = shop.in_category("Home > Kitchen > Kettles")[0]

    changed = [
        Context(n=8, history=[*ctx.history, HistoryEvent(kettle, VIEW, 2.0)], user_key="s:a"),  # a new event
        Context(n=8, history=[HistoryEvent(ctx.history[0].product_id, VIEW, 5.0)], user_key="s:a"),  # its time
        Context(n=9, history=ctx.history, user_key="s:a"),  # the page size
        Context(n=8, history=ctx.history, user_key="s:a", exclude_ids={kettle}),  # what the page shows
        Context(scenario="cart", anchor_ids=[kettle], n=8, history=ctx.history, user_key="s:a"),
    ]
    for other in changed:
        misses = memo.misses
        assert _ids(pipeline.recommend(other, memo=memo)) == _ids(pipeline.recommend(other))
        assert memo.misses == misses + 1, other
    pipeline.ranker = EmbeddingRanker(products=shop.store, index=shop.index, embedder=shop.embedder)
    pipeline.ranker.version = "v2"  # another model version: its own entry
    misses = memo.misses
    pipeline.recommend(ctx, memo=memo)
    assert memo.misses == misses + 1


def test_the_rules_are_applied_per_request_to_a_hit() -> None:
    """Fatigue and merchant rules change between a shopper's requests: the re-rank reads them fresh."""
    shop = make_shop()
    pipeline, memo = _pipeline(shop), ScoredMemo(ttl_s=60, max_entries=100)
    ctx = _returning(shop)
    shown = _ids(pipeline.recommend(ctx, memo=memo))

    rested = pipeline.recommend(ctx, RerankRules(rested=frozenset(shown[:3])), memo=memo)

    assert memo.hits == 1
    assert not set(shown[:3]) & set(_ids(rested))
    assert _ids(rested) == _ids(pipeline.recommend(ctx, RerankRules(rested=frozenset(shown[:3]))))


def test_the_exploration_draw_stays_per_request() -> None:
    shop = make_shop()
    pipeline, memo = _pipeline(shop), ScoredMemo(ttl_s=60, max_entries=100)
    explore = ExplorationConfig(enabled=True, deterministic_slots=2, pool=6, temperature=1.0)
    ctx = _returning(shop)

    pages = {tuple(_ids(pipeline.recommend_explored(ctx, exploration=explore, seed=s, memo=memo))) for s in range(12)}

    assert memo.hits == 11
    assert len(pages) > 1  # different seeds, different draws from the one memoised list
    again = pipeline.recommend_explored(ctx, exploration=explore, seed=3, memo=memo)
    assert _ids(again) == _ids(pipeline.recommend_explored(ctx, exploration=explore, seed=3))


class _PerShopperRanker(EmbeddingRanker):
    """A plugin ranker that reads who the shopper is (it does not declare otherwise)."""

    reads_shopper = True

    def score(self, ctx: Context, candidate_ids: Sequence[ProductId]) -> np.ndarray:
        return np.asarray(super().score(ctx, candidate_ids)) + (0.5 if ctx.user_key.endswith("b") else 0.0)


def test_shoppers_share_an_entry_only_when_no_part_reads_who_they_are() -> None:
    shop = make_shop()
    pipeline, memo = _pipeline(shop), ScoredMemo(ttl_s=60, max_entries=100)
    pipeline.recommend(_returning(shop, "s:a"), memo=memo)
    pipeline.recommend(_returning(shop, "s:b"), memo=memo)
    assert (memo.hits, memo.misses) == (1, 1)  # the same history and page: one computation

    pipeline.ranker = _PerShopperRanker(products=shop.store, index=shop.index, embedder=shop.embedder)
    pipeline.recommend(_returning(shop, "s:a"), memo=memo)
    pipeline.recommend(_returning(shop, "s:b"), memo=memo)
    assert memo.misses == 3


def test_entries_expire_and_the_memo_is_bounded() -> None:
    shop = make_shop()
    pipeline = _pipeline(shop)
    expired = ScoredMemo(ttl_s=0, max_entries=100)
    pipeline.recommend(_returning(shop), memo=expired)
    pipeline.recommend(_returning(shop), memo=expired)
    assert expired.hits == 0

    small = ScoredMemo(ttl_s=60, max_entries=2)
    for n in (5, 6, 7):
        pipeline.recommend(Context(n=n), memo=small)
    assert len(small) == 2


def test_a_page_is_kept_for_the_same_rules_and_every_rule_is_in_its_key() -> None:
    """The re-ranked page is memoised too (`ScoredMemo.pages`): the same request and rules get the page a fresh
    re-rank gives without re-ranking, and a change to any rule is a new page, the one a fresh computation gives."""
    shop = make_shop()
    pipeline, memo = _pipeline(shop), ScoredMemo(ttl_s=60, max_entries=100)
    ctx = _returning(shop)
    base = _ids(pipeline.recommend(ctx, memo=memo))
    again = pipeline.recommend(ctx, memo=memo)
    assert _ids(again) == base and len(memo.pages) == 1 and (memo.hits, memo.misses) == (1, 1)
    again.items.clear()  # a caller's list is its own
    assert _ids(pipeline.recommend(ctx, memo=memo)) == base

    kettle = shop.in_category("Home > Kitchen > Kettles")[0]
    phones = "Electronics > Phones"
    variants = [
        RerankRules(rested=frozenset(base[:2])),
        RerankRules(exclude=frozenset(base[:1])),
        RerankRules(pins={kettle: 0}),
        RerankRules(boosts={base[-1]: 50.0}),
        RerankRules(categories=(phones,)),
        RerankRules(avoid_categories=frozenset({phones})),
    ]
    for rules in variants:
        pages = len(memo.pages)
        served = _ids(pipeline.recommend(ctx, rules, memo=memo))
        assert served == _ids(pipeline.recommend(ctx, rules)), rules
        assert served != base, rules  # each variant changes the page, so a stale page would be caught
        assert len(memo.pages) == pages + 1, rules
        assert _ids(pipeline.recommend(ctx, rules, memo=memo)) == served
