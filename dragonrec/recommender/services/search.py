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
"""

from __future__ import annotations

import functools
import re
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dragonrec.categories import category_leaf, category_q
from dragonrec.recommender.adapters import DefaultProductAdapter, product_adapter
from dragonrec.recommender.conf import DEFAULTS, recommender_settings
from dragonrec.recommender.core.types import Context, HistoryEvent, Preferences, Product
from dragonrec.recommender.services.embeddings import embedder_get
from dragonrec.recommender.services.experiments import experiment_assignment
from dragonrec.recommender.services.impressions import impression_record, impression_record_build
from dragonrec.recommender.services.recommendations import (
    ServedList,
    local_ranker,
    preferences_for,
    recommendation_list,
)
from dragonrec.recommender.stores import CatalogSnapshot, OrmHistoryStore, serving_stores
from dragonrec.textsearch import SearchFields, Vocabulary, lexical_search, normalize, words
from dragonrec.tracking.identity import shopper_key_for, signed_in_user_id

SCENARIO = "search"
SORTS = ("relevance", "price_asc", "price_desc", "newest")
MAX_PAGE_SIZE = 100


class SearchError(ValueError):
    """A request the API answers with 400."""


def search_settings() -> dict[str, Any]:
    """RECOMMENDER["SEARCH"] merged over its defaults (a shop may give only the keys it changes)."""
    return {**DEFAULTS["SEARCH"], **(recommender_settings.SEARCH or {})}


@dataclass
class SearchItem:
    product_id: int
    score: float
    source: str  # "lexical", "semantic" or "lexical+semantic"
    reason: str
    position: int = 0
    propensity: float = 1.0


@dataclass
class SearchResult:
    request_id: uuid.UUID
    query: str
    corrected_query: str | None
    count: int
    page: int
    page_size: int
    sort: str
    ranker: str
    personalised: bool
    items: list[SearchItem] = field(default_factory=list)
    recommendations: ServedList | None = None  # zero results: what to show instead of a dead end
    experiment: str | None = None
    arm: str | None = None


# ------------------------------------------------------------------------------------------------ vocabulary

# The typo path's vocabulary, built from the serving snapshot's products (titles, brands, categories) and kept as
# long as that snapshot is: it is rebuilt exactly when the snapshot is, i.e. within SNAPSHOT_TTL_S of a product change.
_vocabularies: weakref.WeakKeyDictionary[CatalogSnapshot, Vocabulary] = weakref.WeakKeyDictionary()
_vocabulary_lock = threading.Lock()


def catalog_vocabulary(snapshot: CatalogSnapshot) -> Vocabulary:
    with _vocabulary_lock:
        found = _vocabularies.get(snapshot)
        if found is None:
            found = Vocabulary.from_texts(
                f"{p.title} {p.brand} {p.category.replace('>', ' ')}" for p in _snapshot_products(snapshot)
            )
            _vocabularies[snapshot] = found
        return found


def _snapshot_products(snapshot: CatalogSnapshot) -> list[Product]:
    return list(snapshot.products.products.values())


# ------------------------------------------------------------------------------------------------ query vectors

_query_vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_query_vectors_lock = threading.Lock()
QUERY_VECTOR_CACHE = 4096  # popular queries repeat: a hit saves the MiniLM pass (~5-15 ms on 2 busy cores)


def query_vector(text: str) -> np.ndarray:
    embedder = embedder_get()
    key = (embedder.name, text)
    with _query_vectors_lock:
        cached = _query_vectors.get(key)
        if cached is not None:
            _query_vectors.move_to_end(key)
            return cached
    vector = embedder.encode([text])[0]
    with _query_vectors_lock:
        _query_vectors[key] = vector
        while len(_query_vectors) > QUERY_VECTOR_CACHE:
            _query_vectors.popitem(last=False)
    return vector


# ------------------------------------------------------------------------------------------------ ranking parts


# Plurals a suffix rule gets wrong, for category names ("Mice" is where a search for "mouse" should lead).
IRREGULAR_PLURALS = {"mice": "mouse", "knives": "knife", "shelves": "shelf", "feet": "foot", "teeth": "tooth"}


def _singular(word: str) -> str:
    # enough English to match a query word to a leaf category's name ("makers" -> "maker", "boxes" -> "box")
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=65536)
def _leaf_words(category: str) -> frozenset[str]:
    return frozenset(_singular(w) for w in words(category_leaf(category))) - {"and"}


@functools.lru_cache(maxsize=262144)
def _normalized_title(title: str) -> str:
    return normalize(title)  # cached: every search compares its query with up to ~250 titles


def _leaf_matches(query_words: Sequence[str], category: str) -> bool:
    """The query names the product's kind: all of the leaf category's words are in the query ("coffee maker" and
    "Coffee Makers"; "monitor" and "Monitors" but not "Monitor Arms & Stands")."""
    leaf = _leaf_words(category)
    return bool(leaf) and leaf <= {_singular(w) for w in query_words}


def search_fields(adapter: DefaultProductAdapter) -> SearchFields:
    """The adapter's field names, and its stored vector when the product model has one (the catalog's does)."""
    model = adapter.queryset().model
    stored = "search_vector" if any(f.name == "search_vector" for f in model._meta.get_fields()) else None
    return SearchFields(
        vector_field=stored,
        title=adapter.title_field,
        brand=adapter.brand_field,
        category=adapter.category_path_field,
        description=adapter.description_field,
    )


def lexical_hits(
    query: str,
    *,
    vocabulary: Vocabulary,
    products: Any,
    category: str = "",
    limit: int,
) -> tuple[list[int], dict[str, str], set[int]]:
    """Product ids matching every word (or its typo correction), the products of the kind the query names first,
    then by ts_rank_cd; the corrections used; the ids of the named kind. A partial last word is tried when the
    whole words find nothing."""
    adapter = product_adapter()
    qs = adapter.queryset().filter(**{adapter.active_field: True})
    if category:
        qs = qs.filter(category_q(adapter.category_path_field, [category]))
    query_words = words(query)
    alternatives = {w: c for w in query_words if (c := vocabulary.correct(w))}
    fields = search_fields(adapter)
    window = int(search_settings()["rank_window"])
    rows = lexical_search(qs, query, fields=fields, limit=limit, alternatives=alternatives, window=window)
    if not rows and query_words and query_words[-1] not in vocabulary:  # a partial last word ("keyb")
        rows = lexical_search(
            qs, query, fields=fields, limit=limit, alternatives=alternatives, prefix=True, window=window
        )
    corrected = [alternatives.get(w, w) for w in query_words]
    found = products.get_many([pid for pid, _ in rows])
    kind = {pid for pid, _ in rows if pid in found and _leaf_matches(corrected, found[pid].category)}
    ordered = [pid for pid, _ in rows if pid in kind] + [pid for pid, _ in rows if pid not in kind]
    return ordered, alternatives, kind


def rrf(lists: Sequence[tuple[Sequence[int], float]], *, k: float) -> dict[int, float]:
    """Reciprocal-rank fusion: sum of weight / (k + rank) over the lists an item is in (rank from 1)."""
    fused: dict[int, float] = {}
    for ids, weight in lists:
        for rank, pid in enumerate(ids, start=1):
            fused[pid] = fused.get(pid, 0.0) + weight / (k + rank)
    return fused


def personal_rerank(
    ranked: list[int],
    scores: dict[int, float],
    *,
    ranker: Any,
    ctx: Context,
    tiers: dict[int, int],
    top: int,
    weight: float,
) -> list[int]:
    """Re-order the first `top` hits for the shopper, among equals only: each relevance tier (`tiers`: 0 an exact
    title match, 1 a product of the kind the query names, 2 other word matches, 3 semantic only) keeps the slots it
    had, and within a tier the order is relevance + `weight` x the shopper's ranker score (both scaled to [0, 1] over
    the tier) + `weight` for a stated brand. Exact title matches (tier 0) never move. The lead can swap `ranker` for
    the serving policy's."""
    head = ranked[:top]
    if len(head) < 2:
        return ranked
    personal = dict(zip(head, np.asarray(ranker.score(ctx, head), dtype=np.float64).tolist(), strict=True))
    brands = {normalize(b) for b in ctx.preferences.brands}
    found = ranker.products.get_many(head) if brands and hasattr(ranker, "products") else {}

    def unit(values: np.ndarray) -> np.ndarray:
        span = float(values.max() - values.min())
        return (values - values.min()) / span if span > 1e-12 else np.zeros_like(values)

    out = list(head)
    for tier in sorted({tiers.get(pid, 3) for pid in head}):
        slots = [i for i, pid in enumerate(head) if tiers.get(pid, 3) == tier]
        members = [head[i] for i in slots]
        if tier == 0 or len(members) < 2:
            continue
        combined = unit(np.array([scores[pid] for pid in members])) + weight * unit(
            np.array([personal[pid] for pid in members])
        )
        if brands:
            combined += weight * np.array(
                [normalize(getattr(found.get(pid), "brand", "")) in brands for pid in members]
            )
        for slot, i in zip(slots, np.argsort(-combined, kind="stable"), strict=True):
            out[slot] = members[i]
    return out + ranked[top:]


# ------------------------------------------------------------------------------------------------ the search


def _newest_key(product: Product) -> int:
    return -product.id  # ids grow with insertion: the adapter has no creation time for every model


def search_products(
    *,
    query: str,
    user: Any | None = None,
    session_id: str = "",
    page: int = 1,
    page_size: int = 20,
    sort: str = "relevance",
    category: str = "",
    record: bool = True,
    personalise: bool | None = None,
) -> SearchResult:
    """One search request: ranked hits, the typo correction used (or suggested when nothing was found), and for a
    zero-result query the shopper's recommendations instead. Recorded as a served list unless `record` is False."""
    settings = search_settings()
    text = normalize(query)
    if sort not in SORTS:
        raise SearchError(f"sort must be one of {', '.join(SORTS)}")
    products, index = serving_stores()
    vocabulary = catalog_vocabulary(index.snapshot) if index.snapshot is not None else Vocabulary({})
    limit = int(settings["candidates"])
    lexical, alternatives, kind = lexical_hits(
        text, vocabulary=vocabulary, products=products, category=category, limit=limit
    )
    semantic: list[int] = []
    if settings["semantic"] and words(text):
        floor = float(settings["semantic_min_similarity"])
        found = index.search(
            query_vector(" ".join(alternatives.get(w, w) for w in words(text))),
            k=int(settings["semantic_k"]),
            categories=[category] if category else (),
        )
        semantic = [pid for pid, similarity in found if similarity >= floor]
    fused = rrf([(lexical, 1.0), (semantic, float(settings["semantic_weight"]))], k=float(settings["rrf_k"]))
    by_id = products.get_many(list(fused))
    fused = {pid: score for pid, score in fused.items() if pid in by_id and by_id[pid].is_active}
    ranked = sorted(fused, key=lambda pid: (-fused[pid], pid))
    # an exact title match leads, whatever fusion or personalisation say
    exact = {pid for pid in ranked if _normalized_title(by_id[pid].title) == text}
    ranked = [pid for pid in ranked if pid in exact] + [pid for pid in ranked if pid not in exact]

    request_id = uuid.uuid4()
    lexical_set, semantic_set = set(lexical), set(semantic)
    key = shopper_key_for(user=user, session_id=session_id)
    history: list[HistoryEvent] = (
        OrmHistoryStore().recent(key, limit=recommender_settings.HISTORY_LENGTH) if key else []
    )
    preferences = preferences_for(user, session_id) if key else Preferences()
    personalise = bool(settings["personalise"]) if personalise is None else personalise
    experiment_name = arm_name = None
    assignment = experiment_assignment(scenario=SCENARIO, user_key=key) if record else None
    teams: list[str] = []
    label = "search"
    local = None
    if (history or not preferences.is_empty) and ranked and (personalise or assignment is not None):
        local = local_ranker(products=products, index=index)
        ctx = Context(scenario=SCENARIO, history=history, preferences=preferences, n=page_size, user_key=key)
        personal = personal_rerank(
            ranked,
            fused,
            ranker=local,
            ctx=ctx,
            tiers={pid: 0 if pid in exact else 1 if pid in kind else 2 if pid in lexical_set else 3 for pid in ranked},
            top=int(settings["personal_top"]),
            weight=float(settings["personal_weight"]),
        )
        if assignment is not None:
            experiment, arm = assignment
            experiment_name = experiment.name
            if arm is None:  # interleaving: personalised vs plain, team-draft
                from dragonrec.recommender.core.experiments import team_draft
                from dragonrec.recommender.core.exploration import seed_from_request

                arms = list(experiment.arms.all())[:2]
                mixed = team_draft(
                    personal, ranked, n=len(ranked), rng=np.random.default_rng(seed_from_request(request_id))
                )
                ranked, arm_name = list(mixed.items), "interleaved"
                team_names = {"a": arms[0].name if arms else "a", "b": arms[1].name if len(arms) > 1 else "b"}
                teams = [team_names[t] for t in mixed.teams]
                label = f"interleaved:search+{local.label}"
            else:
                arm_name = arm.name
                plain = (
                    arm.policy in ("trending", "embedding", "none") or (arm.overrides or {}).get("personalise") is False
                )
                if not plain:
                    ranked, label = personal, f"search+{local.label}"
        elif personalise:
            ranked, label = personal, f"search+{local.label}"

    if sort != "relevance":

        def price_key(pid: int) -> tuple[bool, float]:
            price = by_id[pid].price
            return (price is None, (price or 0.0) * (1 if sort == "price_asc" else -1))

        ranked = sorted(ranked, key=price_key if sort.startswith("price") else lambda pid: _newest_key(by_id[pid]))
    start = (page - 1) * page_size
    items = []
    for offset, pid in enumerate(ranked[start : start + page_size]):
        source = "+".join(
            name for name, hit in (("lexical", pid in lexical_set), ("semantic", pid in semantic_set)) if hit
        )
        reason = "Matches your search" if pid in lexical_set else "Related to your search"
        items.append(SearchItem(pid, round(fused[pid], 6), source, reason, start + offset + 1))

    corrected = " ".join(alternatives.get(w, w) for w in words(text)) if alternatives else None
    recommendations = None
    if not lexical:  # no product has every word: offer the words that find something
        corrected = _did_you_mean(text, vocabulary=vocabulary, products=products, category=category) or corrected
    if not ranked:
        if corrected is None:  # nothing at all: a looser guess at what was meant is better than no suggestion
            guesses = [vocabulary.resemble(w) for w in words(text)]
            corrected = " ".join(g for g in guesses if g) or None
        recommendations = recommendation_list(
            scenario="home", user=user, session_id=session_id, n=min(page_size, 10), record=record
        )
    result = SearchResult(
        request_id=request_id,
        query=query,
        corrected_query=corrected if corrected and corrected != text else None,
        count=len(ranked),
        page=page,
        page_size=page_size,
        sort=sort,
        ranker=label,
        personalised=label != "search",
        items=items,
        recommendations=recommendations,
        experiment=experiment_name,
        arm=arm_name,
    )
    if record and items:
        policy: dict[str, Any] = {"ranker": label, "model_version": getattr(local, "version", "") if local else ""}
        policy.update({"sort": sort, "personalised": result.personalised})
        if teams:
            policy["teams"] = [teams[item.position - 1] for item in items if item.position - 1 < len(teams)]
        impression_record(
            impression_record_build(
                request_id=request_id,
                user_id=signed_in_user_id(user),
                session_id=session_id,
                scenario=SCENARIO,
                anchor_ids=[],
                ranker=label,
                model_version=policy["model_version"],
                context={
                    "user_key": key,
                    "query": text[:200],
                    "corrected_query": result.corrected_query,
                    "category": category,
                    "sort": sort,
                    "page": page,
                    "preferences": asdict(preferences),
                    "history": [[e.product_id, e.event_type] for e in history[-20:]],
                },
                items=((i.product_id, i.position, i.score, i.source, i.propensity) for i in items),
                policy=policy,
                experiment=experiment_name or "",
                arm=arm_name or "",
            )
        )
    return result


def _did_you_mean(text: str, *, vocabulary: Vocabulary, products: Any, category: str) -> str | None:
    """A query that finds something, for a zero-result one: its words the catalog knows (corrected), dropping the
    rest; or the single known word that finds the most."""
    known = [vocabulary.correct(w) or w for w in words(text)]
    known = [w for w in known if w in vocabulary]
    if not known:
        return None
    candidates = [" ".join(known)] + ([] if len(known) == 1 else sorted(known, key=lambda w: -vocabulary.counts[w]))
    for candidate in candidates:
        hits, _, _ = lexical_hits(candidate, vocabulary=vocabulary, products=products, category=category, limit=1)
        if hits:
            return candidate
    return None


# ------------------------------------------------------------------------------------------------ suggestions


@dataclass
class SearchSuggestion:
    text: str
    kind: str  # "query" (a completed word), "category", or "product" (with its id)
    product_id: int | None = None


_PREFIX_CLEAN = re.compile(r"\s+")


def search_suggest(*, query: str, limit: int = 8) -> tuple[list[SearchSuggestion], str | None]:
    """Autocomplete for a search box: the query with its last word completed from the catalog's vocabulary, leaf
    categories and product titles matching what was typed (the last word as a prefix), and the typo correction of the
    words typed so far (None when there is none)."""
    text = normalize(query)
    typed = words(text)
    if not typed:
        return [], None
    products, index = serving_stores()
    vocabulary = catalog_vocabulary(index.snapshot) if index.snapshot is not None else Vocabulary({})
    head = [vocabulary.correct(w) or w for w in typed[:-1]]
    last = typed[-1]
    suggestions: list[SearchSuggestion] = []
    seen: set[tuple[str, str]] = set()

    def add(suggestion: SearchSuggestion) -> None:
        key = (suggestion.kind, normalize(suggestion.text))
        if key not in seen and len(suggestions) < limit:
            seen.add(key)
            suggestions.append(suggestion)

    adapter = product_adapter()
    matched = lexical_search(
        adapter.available(), " ".join([*head, last]), fields=search_fields(adapter), limit=50, prefix=True
    )
    found = products.get_many([pid for pid, _ in matched])
    hits = [found[pid] for pid, _ in matched if pid in found]
    # completions of the last word that occur with the words before it: from the products that match so far
    completed: dict[str, int] = {}
    for product in hits:
        for word in set(words(f"{product.title} {product.category.replace('>', ' ')}")):
            if word.startswith(last) and word != last:
                completed[word] = completed.get(word, 0) + 1
    completions = sorted(completed, key=lambda w: (-completed[w], w))[:3] if hits else []
    if not completions and not head:
        completions = vocabulary.complete(last, limit=3)
    if not completions and (guess := vocabulary.correct(last)):
        completions = [guess]
    for word in completions:
        add(SearchSuggestion(" ".join([*head, word]), "query"))
    leaves = {category_leaf(p.category) for p in _snapshot_products(index.snapshot)} if index.snapshot else set()
    for leaf in sorted(leaves):
        leaf_words = words(leaf)
        if any(w.startswith(last) for w in leaf_words) and all(w in leaf_words for w in head):
            add(SearchSuggestion(leaf, "category"))
    for product in hits[:limit]:
        add(SearchSuggestion(product.title, "product", product.id))
    corrected = " ".join([*head, vocabulary.correct(last) or last])
    return suggestions, corrected if corrected != " ".join(typed) else None
