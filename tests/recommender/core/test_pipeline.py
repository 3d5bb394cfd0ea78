from __future__ import annotations

from dragonrec.recommender.core.candidates import EmbeddingSource
from dragonrec.recommender.core.pipeline import Pipeline, PipelineConfig
from dragonrec.recommender.core.rankers import EmbeddingRanker
from dragonrec.recommender.core.rerank import RerankRules
from dragonrec.recommender.core.types import PURCHASE, VIEW, Context, HistoryEvent, Preferences
from tests.recommender.core.synthetic_shop import Shop, make_shop

COMPLEMENTS_OF_PHONES = {"Electronics > Phone Cases", "Electronics > Chargers"}


def _pipeline(shop: Shop, config: PipelineConfig | None = None) -> Pipeline:
    return Pipeline.default(products=shop.store, index=shop.index, embedder=shop.embedder, config=config)


def _categories(shop: Shop, items) -> list[str]:  # type: ignore[no-untyped-def]
    return [shop.category_of(i.product_id) for i in items]


def test_cold_start_spreads_trending_over_categories() -> None:
    shop = make_shop()

    rec = _pipeline(shop).recommend(Context(n=10))

    assert len(rec.items) == 10
    assert len(set(_categories(shop, rec.items))) >= 4
    assert rec.ranker == "trending"


def test_stated_preferences_personalise_the_first_page() -> None:
    shop = make_shop()
    ctx = Context(n=6, preferences=Preferences(categories=("Sports > Running",)))

    rec = _pipeline(shop).recommend(ctx)

    running = [c for c in _categories(shop, rec.items) if c.startswith("Sports > Running")]
    assert len(running) >= 4
    assert rec.ranker == "embedding"


def test_product_page_shows_similar_items_and_complements_but_not_the_product() -> None:
    shop = make_shop()
    galaxy = shop.id("Galaxy phone 128GB")

    rec = _pipeline(shop).recommend(Context(scenario="product", anchor_ids=[galaxy], n=10))

    categories = _categories(shop, rec.items)
    assert galaxy not in {i.product_id for i in rec.items}
    assert "Electronics > Phones" in categories  # similar
    assert set(categories) & COMPLEMENTS_OF_PHONES  # complements
    assert any(i.source == "complements" for i in rec.items)


def test_cart_shows_complements_of_the_cart_first() -> None:
    shop = make_shop()
    phone = shop.in_category("Electronics > Phones")[1]
    history = [HistoryEvent(phone, VIEW, 1.0), HistoryEvent(phone, "add_to_cart", 2.0)]

    rec = _pipeline(shop).recommend(Context(scenario="cart", anchor_ids=[phone], history=history, n=4))

    assert all(c in COMPLEMENTS_OF_PHONES for c in _categories(shop, rec.items))


def test_fallback_fills_the_page_when_sources_run_dry() -> None:
    shop = make_shop()
    ranker = EmbeddingRanker(index=shop.index)
    sources = [EmbeddingSource(products=shop.store, index=shop.index)]
    tiny = PipelineConfig(sources={"home": (("embedding", 2),)})
    shoe = shop.in_category("Sports > Running > Shoes")[0]
    history = [HistoryEvent(shoe, PURCHASE, float(t)) for t in range(4)]

    personal = Pipeline(shop.store, shop.index, sources, ranker, tiny).recommend(Context(history=history, n=10))
    cold = Pipeline(shop.store, shop.index, sources, ranker, tiny).recommend(Context(n=10))

    assert len(personal.items) == 10 and personal.ranker == "embedding"
    assert {i.source for i in personal.items[2:]} == {"trending"}
    assert len(cold.items) == 10 and cold.ranker == "trending"


def test_personal_weight_grows_with_history() -> None:
    shop = make_shop()
    pipeline = _pipeline(shop)
    event = HistoryEvent(0, VIEW, 0.0)

    weights = [pipeline.personal_weight(Context(history=[event] * n)) for n in range(5)]

    assert weights[0] == 0.0
    assert weights == sorted(weights)
    assert 0.0 < weights[1] < 1.0 and weights[4] == 1.0
    assert pipeline.personal_weight(Context(preferences=Preferences(brands=("Acme",)))) > 0.0


def test_business_rules_and_exclusions_hold_end_to_end() -> None:
    shop = make_shop()
    kettle, tea = shop.in_category("Home > Kitchen > Kettles"), shop.in_category("Home > Kitchen > Tea")
    history = [HistoryEvent(kettle[0], PURCHASE, 0.0), HistoryEvent(tea[0], PURCHASE, 1.0)]
    pinned = shop.in_category("Books > Fiction")[0]
    rules = RerankRules(pins={pinned: 0}, exclude=frozenset({kettle[1]}))

    rec = _pipeline(shop).recommend(Context(history=history, n=8, exclude_ids={kettle[2]}), rules)

    ids = [i.product_id for i in rec.items]
    assert ids[0] == pinned
    assert kettle[0] not in ids  # a kettle is bought once
    assert not {kettle[1], kettle[2]} & set(ids)
    assert len(ids) == 8


def test_core_defaults_are_the_settings_defaults() -> None:
    from dragonrec.recommender.core.pipeline import PIPELINE_DEFAULTS, pipeline_config_from_settings

    assert pipeline_config_from_settings({}) == PipelineConfig()
    assert (
        PipelineConfig().source_bonus["product"]["complements"]
        == PIPELINE_DEFAULTS["SOURCE_BONUS"]["product"]["complements"]
    )
    assert ("student", 150) in PipelineConfig().sources["home"]


def test_scenario_rerank_overrides_one_scenario_only() -> None:
    from dragonrec.recommender.core.pipeline import pipeline_config_from_settings

    config = pipeline_config_from_settings({"DIVERSITY": 0.3, "SCENARIO_RERANK": {"product": {"CATEGORY_CAP": 2}}})
    default = pipeline_config_from_settings({})

    assert config.rerank_for("home").category_cap is None and config.rerank_for("home").diversity == 0.3
    assert config.rerank_for("product").category_cap == 2 and config.rerank_for("product").diversity == 0.3
    assert default.rerank_for("cart").category_cap == default.rerank_for("product").category_cap == 3


def test_support_blend_reorders_only_items_the_main_ranker_knows_poorly() -> None:
    import numpy as np

    from dragonrec.recommender.core.rankers import SupportBlendRanker

    class Fixed(EmbeddingRanker):
        def __init__(self, scores: list[float]) -> None:
            self.values = np.array(scores)

        def score(self, ctx, candidate_ids):  # type: ignore[no-untyped-def]
            return self.values

    # given: main prefers 0 > 1 > 2 > 3; content prefers 3 and 1; items 0 and 1 are well known, 2 and 3 are not
    main, content = Fixed([4.0, 3.0, 2.0, 1.0]), Fixed([0.0, 1.0, 0.0, 1.0])
    support = {0: 1000.0, 1: 1000.0, 2: 0.0, 3: 0.0}
    blend = SupportBlendRanker(
        main, content, support=lambda ids: np.array([support[i] for i in ids]), weight=3.0, pivot=5.0
    )

    scores = blend.score(Context(), [0, 1, 2, 3])

    order = list(np.argsort(-scores))
    assert order.index(0) < order.index(1)  # well-known items keep the main ranker's order
    assert order.index(3) < order.index(2)  # the unknown item that matches the content jumps the other
    assert scores[3] > scores[1]  # ... and past the well-known item with the same content score


def test_a_page_longer_than_the_pool_still_explores_its_tail() -> None:
    # given: a page of 20, longer than the 3 kept slots plus the pool of 10 (nothing extra needs to be ranked)
    from dragonrec.recommender.core.exploration import ExplorationConfig

    shop = make_shop()
    pipeline = _pipeline(shop)
    ctx = Context(n=20, preferences=Preferences(categories=("Sports > Running", "Electronics > Phones")))
    config = ExplorationConfig(deterministic_slots=3, pool=10, temperature=0.5)
    ranked = [i.product_id for i in pipeline.recommend(ctx).items]

    pages = [pipeline.recommend_explored(ctx, exploration=config, seed=seed).items for seed in range(20)]

    # then: the head is the ranking's, the tail is drawn (with its propensities), the page keeps its length
    assert all([i.product_id for i in page[:3]] == ranked[:3] for page in pages)
    assert any([i.product_id for i in page] != ranked for page in pages)
    assert all(len(page) == 20 and any(i.propensity < 1.0 for i in page[3:13]) for page in pages)
