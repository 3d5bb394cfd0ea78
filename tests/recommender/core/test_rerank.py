from __future__ import annotations

import numpy as np

from dragonrec.recommender.core.metrics import intra_list_diversity
from dragonrec.recommender.core.rerank import RerankRules, mmr_select, rerank
from dragonrec.recommender.core.types import Product, ScoredItem
from tests.recommender.core.synthetic_shop import make_shop


def _ranked(shop, ids: list[int]) -> list[ScoredItem]:  # type: ignore[no-untyped-def]
    return [ScoredItem(product_id=pid, score=1.0 - 0.01 * r, source="test") for r, pid in enumerate(ids)]


def _by_id(shop) -> dict[int, Product]:  # type: ignore[no-untyped-def]
    return {p.id: p for p in shop.products}


def test_category_cap_limits_items_per_leaf_category() -> None:
    shop = make_shop()
    # relevance order puts all phones and cases first
    ids = shop.in_category("Electronics > Phones") + shop.in_category("Electronics > Phone Cases")
    ids += shop.in_category("Electronics > Chargers")

    page = rerank(_ranked(shop, ids), products=_by_id(shop), index=shop.index, rules=RerankRules(category_cap=2), n=6)

    categories = [shop.category_of(i.product_id) for i in page]
    assert len(page) == 6
    assert max(categories.count(c) for c in set(categories)) == 2


def test_mmr_raises_intra_list_diversity_and_zero_is_off() -> None:
    shop = make_shop()
    # the 4 phones are the most relevant, then everything else
    ids = shop.in_category("Electronics > Phones") + [p.id for p in shop.products if "Phones" not in p.category]
    vectors = shop.index.vectors(ids)[0]
    scores = np.linspace(1.0, 0.5, len(ids))

    plain = mmr_select(scores, vectors, n=4, diversity=0.0)
    diverse = mmr_select(scores, vectors, n=4, diversity=0.5)

    assert plain == [0, 1, 2, 3]  # diversity 0 keeps the ranker's order
    pages = [np.array([ids[i] for i in pick]) for pick in (plain, diverse)]
    ild = [float(intra_list_diversity(page, shop.index.matrix)[0]) for page in pages]
    assert ild[1] > ild[0] + 0.2
    assert diverse[0] == 0  # the most relevant item still leads


def test_business_rules_drop_unavailable_excluded_and_bought_durables() -> None:
    products = {
        1: Product(id=1, title="in stock"),
        2: Product(id=2, title="sold out", in_stock=False),
        3: Product(id=3, title="retired", is_active=False),
        4: Product(id=4, title="blocked"),
        5: Product(id=5, title="bought kettle"),
        6: Product(id=6, title="bought coffee", consumable=True),
        7: Product(id=7, title="too expensive", price=500.0),
        8: Product(id=8, title="cheap", price=5.0),
    }
    items = [ScoredItem(product_id=i, score=1.0, source="t") for i in products]
    rules = RerankRules(exclude=frozenset({4}), bought=frozenset({5, 6}), price_max=100.0)

    page = rerank(items, products=products, index=None, rules=rules, n=10)

    assert sorted(i.product_id for i in page) == [1, 6, 8]


def test_pins_boosts_and_category_restrictions() -> None:
    products = {i: Product(id=i, title=str(i), category="A > B" if i < 5 else "C") for i in range(1, 9)}
    items = [ScoredItem(product_id=i, score=1.0 - i / 10, source="t") for i in range(1, 9)]

    boosted = rerank(items, products=products, index=None, rules=RerankRules(boosts={3: 2.0}), n=3)
    pinned = rerank(items, products=products, index=None, rules=RerankRules(pins={8: 0, 7: 2}), n=4)
    only_a = rerank(items, products=products, index=None, rules=RerankRules(categories=("A",)), n=10)

    assert [i.product_id for i in boosted] == [3, 1, 2]
    assert [i.product_id for i in pinned] == [8, 1, 7, 2]
    assert {i.product_id for i in only_a} == {1, 2, 3, 4}


def test_fallback_fills_the_page_then_relaxes_the_cap() -> None:
    products = {i: Product(id=i, title=str(i), category="A" if i < 8 else "B") for i in range(1, 10)}
    items = [ScoredItem(product_id=1, score=1.0, source="embedding")]
    fallback = [ScoredItem(product_id=i, score=10.0 - i, source="trending") for i in range(1, 10)]

    page = rerank(items, products=products, index=None, rules=RerankRules(category_cap=2), n=5, fallback=fallback)

    assert [i.product_id for i in page][:4] == [1, 2, 8, 9]  # capped fill first: A, A, then B, B
    assert len(page) == 5  # then the cap gives way to a full page


def test_a_fallback_function_is_called_only_for_a_short_page_and_fills_it_alike() -> None:
    """Serving hands the fallback over as a function: a page the candidates fill never builds it (most pages), and
    a short page gets the very page a list of the same items gives, a preferred category found only in the
    fallback included (its cap is read once the fallback's products are known)."""
    catalog = {i: Product(id=i, title=str(i), category="A" if i < 8 else "B") for i in range(1, 10)}
    trending = [ScoredItem(product_id=i, score=10.0 - i, source="trending") for i in range(1, 10)]
    products = {i: catalog[i] for i in range(1, 6)}  # as serving looks them up: the candidates' products first
    calls: list[int] = []

    def fallback() -> list[ScoredItem]:
        calls.append(1)
        products.update(catalog)  # the fallback's products join the same dict (core.pipeline does this)
        return trending

    full = [ScoredItem(product_id=i, score=1.0 - i / 10, source="embedding") for i in range(1, 6)]
    page = rerank(full, products=products, index=None, rules=RerankRules(), n=5, fallback=fallback)
    assert [i.product_id for i in page] == [1, 2, 3, 4, 5]
    assert calls == []

    rules = RerankRules(category_cap=1, prefer_categories=("B",), prefer_cap=2)
    short = [ScoredItem(product_id=1, score=1.0, source="embedding")]
    lazily = rerank(short, products=products, index=None, rules=rules, n=5, fallback=fallback)
    eagerly = rerank(short, products=catalog, index=None, rules=rules, n=5, fallback=trending)
    assert calls == [1]
    assert [i.product_id for i in lazily] == [i.product_id for i in eagerly]
    assert [i.product_id for i in lazily][:3] == [1, 8, 9]  # B's own cap (2) read from the fallback's products


def test_rested_items_are_left_out_until_the_page_would_be_short() -> None:
    shop = make_shop()
    ids = [p.id for p in shop.products][:8]
    ranked = _ranked(shop, ids)
    rested = frozenset(ids[:3])
    # plenty of fresh items: the rested ones stay out
    page = rerank(ranked, products=_by_id(shop), index=None, rules=RerankRules(rested=rested), n=4)
    assert [i.product_id for i in page] == ids[3:7]
    # not enough fresh ones: every fresh item first, then the best rested ones fill the page
    page = rerank(ranked, products=_by_id(shop), index=None, rules=RerankRules(rested=rested), n=7)
    assert [i.product_id for i in page] == ids[3:8] + ids[:2]


def _near_duplicate_setup() -> tuple[np.ndarray, np.ndarray]:
    """Items 0-5 by relevance: 1 is a near-copy of 0 (cos 0.98), 2 is related to 0 (cos 0.6), the rest unrelated."""
    base = np.eye(6, dtype=np.float32)
    vectors = base.copy()
    vectors[1] = 0.98 * base[0] + np.sqrt(1 - 0.98**2) * base[1]
    vectors[2] = 0.6 * base[0] + 0.8 * base[2]
    return np.linspace(1.0, 0.9, 6), vectors


def test_keep_top_leaves_the_first_slots_in_relevance_order() -> None:
    scores, vectors = _near_duplicate_setup()

    classic = mmr_select(scores, vectors, n=6, diversity=0.5)
    kept = mmr_select(scores, vectors, n=6, diversity=0.5, keep_top=2)

    assert classic[:2] != [0, 1]  # plain MMR pushes the near-copy out of slot 2
    assert kept[:2] == [0, 1]  # the first 2 slots follow the ranker, whatever their similarity
    assert sorted(kept) == list(range(6))


def test_threshold_pushes_near_duplicates_down_but_not_related_items() -> None:
    scores, vectors = _near_duplicate_setup()

    classic = mmr_select(scores, vectors, n=6, diversity=0.5)
    near_dup_only = mmr_select(scores, vectors, n=6, diversity=0.5, threshold=0.8)

    # classic MMR demotes the merely related item 2 as well; with the threshold only the near-copy 1 moves down
    assert classic.index(2) > 2
    assert near_dup_only[:2] == [0, 2]
    assert near_dup_only.index(1) == 5


def test_rerank_rules_carry_keep_top_and_threshold() -> None:
    shop = make_shop()
    ids = shop.in_category("Electronics > Phones") + [p.id for p in shop.products if "Phones" not in p.category]
    ranked = _ranked(shop, ids)

    rules = RerankRules(diversity=0.9, diversity_keep_top=3)
    page = rerank(ranked, products=_by_id(shop), index=shop.index, rules=rules, n=6)

    assert [i.product_id for i in page[:3]] == ids[:3]  # three phones, as ranked, despite strong diversity


def test_category_bonus_lets_a_new_category_in_only_below_the_kept_slots_and_when_nearly_as_relevant() -> None:
    # items 0-3 in category A (relevance 1.0, 0.98, 0.96, 0.94), item 4 in B at 0.93, item 5 in C far below at 0.5
    scores = np.array([1.0, 0.98, 0.96, 0.94, 0.93, 0.5])
    categories = ["A", "A", "A", "A", "B", "C"]
    vectors = np.zeros((6, 1), dtype=np.float32)

    plain = mmr_select(scores, vectors, n=5, diversity=0.0, categories=categories)
    bonus = mmr_select(scores, vectors, n=5, diversity=0.0, categories=categories, category_bonus=0.1, keep_top=1)

    assert plain == [0, 1, 2, 3, 4]
    # B (0.93 + bonus) jumps the A items right after the kept first slot; C is too far below to be pulled in
    assert bonus == [0, 4, 1, 2, 3]
