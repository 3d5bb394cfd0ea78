"""What shoppers are served, assembled once for every offline measurement: the harness's `pipeline` and `served`
rankers and the closed-loop simulator all build their pipeline here, from one RECOMMENDER-shaped settings dict.

`core.pipeline.build_pipeline` (the function serving calls) builds the pipeline; each request's sources, filters and
re-rank then come from the serving policy (`core.policy.serving_policy`, applied by `Pipeline.recommend`), so an
offline figure describes what shoppers get. The settings start from `PIPELINE_DEFAULTS`, the same dict
`recommender.conf` serves with, and a caller's overrides go on top in RECOMMENDER's shape (never field by field).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.core.exploration import ExplorationConfig
from dragonrec.recommender.core.memory import InMemoryProductStore, InMemoryVectorIndex
from dragonrec.recommender.core.pipeline import (
    PIPELINE_DEFAULTS,
    Pipeline,
    PipelineConfig,
    build_pipeline,
    pipeline_config_from_settings,
)
from dragonrec.recommender.core.types import HistoryEvent, Product


def served_settings(*overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The RECOMMENDER pipeline settings an offline run serves with: the defaults, then each override in order."""
    merged: dict[str, Any] = dict(PIPELINE_DEFAULTS)
    for layer in overrides:
        merged.update(layer or {})
    return merged


def served_pipeline(
    *,
    store: InMemoryProductStore,
    index: InMemoryVectorIndex,
    ranker: Ranker,
    settings: Mapping[str, Any],
    config: PipelineConfig | None = None,
) -> Pipeline:
    """`build_pipeline` as serving calls it, on in-memory stores: the settings' sources and configuration (or
    `config`, for an ablation). No embedder: offline shoppers carry no stated preferences to embed."""
    return build_pipeline(
        products=store,
        index=index,
        embedder=None,
        ranker=ranker,
        config=config or pipeline_config_from_settings(settings),
        sources=settings["CANDIDATE_SOURCES"],
    )


def served_student_pipeline(
    *, store: InMemoryProductStore, index: InMemoryVectorIndex, student: Any, settings: Mapping[str, Any]
) -> Pipeline:
    """What serves once a student is active: the student ranks (and retrieves, through its candidate source), and
    products it was not trained on are scored from their text vectors through `index`."""
    from dragonrec.recommender.ml.ranker import StudentRanker

    return served_pipeline(store=store, index=index, ranker=StudentRanker(student, index=index), settings=settings)


def served_exploration(settings: Mapping[str, Any], scenario: str = "home") -> ExplorationConfig | None:
    """The scenario's exploration when the settings carry RECOMMENDER's `EXPLORATION` (absent: the ranked page)."""
    values = (settings.get("EXPLORATION") or {}).get(scenario)
    return ExplorationConfig.from_dict(values) if values else None


def memory_stores(
    products: Sequence[Product], sessions: Sequence[Sequence[HistoryEvent]], vectors: np.ndarray
) -> tuple[InMemoryProductStore, InMemoryVectorIndex]:
    """In-memory product store (trending, complements: counts from `sessions` only, no real clock) and vector index
    (`vectors[i]` is product `i`'s text vector: the datasets' ids are row numbers)."""
    store = InMemoryProductStore.from_sessions(products, sessions)
    index = InMemoryVectorIndex(range(len(products)), vectors, products=products)
    return store, index
