"""The search itself: one page of results for a query, recorded as a served list (scenario "search")."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.stores import ProductStore
from dragonrec.recommender.core.types import Context, HistoryEvent, Preferences, Product
from dragonrec.recommender.services.experiments import experiment_assignment
from dragonrec.recommender.services.impressions import impression_record, impression_record_build
from dragonrec.recommender.services.recommendations import (
    ServedList,
    local_ranker,
    preferences_for,
    recommendation_list,
)
from dragonrec.recommender.services.search.ranking import (
    _normalized_title,
    catalog_vocabulary,
    lexical_hits,
    personal_rerank,
    query_vector,
    rrf,
    search_settings,
)
from dragonrec.recommender.stores import OrmHistoryStore, serving_stores
from dragonrec.textsearch import Vocabulary, normalize, words
from dragonrec.tracking.identity import shopper_key_for, signed_in_user_id

SCENARIO = "search"
SORTS = ("relevance", "price_asc", "price_desc", "newest")
MAX_PAGE_SIZE = 100


class SearchError(ValueError):
    """A request the API answers with 400."""


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


def _did_you_mean(text: str, *, vocabulary: Vocabulary, products: ProductStore, category: str) -> str | None:
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
