"""Product search as a served list: lexical (PostgreSQL full text over the catalog's weighted vector) with typo
correction from the catalog's vocabulary, semantic recall from the product embeddings in pgvector, the two fused by
reciprocal rank, re-ranked for the shopper by the serving ranker, and recorded like any recommendation list so clicks
on results are attributed, rewarded and testable in experiments.

    lexical  ─┐  ts_rank_cd, leaf-category match first, typo alternatives ("moniter" | "monitor")
              ├─ reciprocal-rank fusion (Cormack, Clarke & Buettcher 2009), lexical weighted above semantic
    semantic ─┘  cosine of the query's MiniLM vector, above a similarity floor (no floor: every query "finds" items)
      └─ personal re-rank of the top hits (active student, else embedding similarity to the history; stated brands),
         exact title matches pinned ─> sort/paginate ─> impression (scenario "search")

The product model is pluggable: the catalog's own model has a stored, GIN-indexed vector; a shop's own model is
searched through its adapter's fields with a vector computed per query (correct, unindexed: see docs/extending.md).

Along its seams: `ranking` (vocabulary, query vectors, lexical hits, fusion, the personal re-rank), `query` (one page
of results, recorded) and `suggest` (suggestions as the shopper types).
"""

from __future__ import annotations

from dragonrec.recommender.services.search.query import (
    MAX_PAGE_SIZE,
    SCENARIO,
    SORTS,
    SearchError,
    SearchItem,
    SearchResult,
    search_products,
)
from dragonrec.recommender.services.search.ranking import (
    catalog_vocabulary,
    lexical_hits,
    personal_rerank,
    query_vector,
    rrf,
    search_fields,
    search_settings,
)
from dragonrec.recommender.services.search.suggest import SearchSuggestion, search_suggest

__all__ = [
    "MAX_PAGE_SIZE",
    "SCENARIO",
    "SORTS",
    "SearchError",
    "SearchItem",
    "SearchResult",
    "SearchSuggestion",
    "catalog_vocabulary",
    "lexical_hits",
    "personal_rerank",
    "query_vector",
    "rrf",
    "search_fields",
    "search_products",
    "search_settings",
    "search_suggest",
]
