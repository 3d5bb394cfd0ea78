"""The ranking parts of search: the typo path's vocabulary, query vectors (cached), lexical hits with the
leaf-category match first, reciprocal-rank fusion, and the personal re-rank inside relevance tiers."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
import time
import weakref
import zlib
from collections import Counter, OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
from django.db import connection
from django.db.models import F, TextField, Value
from django.db.models.functions import Concat
from django_redis import get_redis_connection
from redis.exceptions import LockError, RedisError

from dragonrec.categories import category_leaf, category_q
from dragonrec.recommender.adapters import DefaultProductAdapter, product_adapter
from dragonrec.recommender.conf import DEFAULTS, recommender_settings
from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.core.stores import ProductStore
from dragonrec.recommender.core.types import Context
from dragonrec.recommender.services.embeddings import embedder_get
from dragonrec.recommender.stores import CatalogProducts, CatalogSnapshot
from dragonrec.textsearch import SearchFields, Vocabulary, lexical_search, normalize, words


def search_settings() -> dict[str, Any]:
    """RECOMMENDER["SEARCH"] merged over its defaults (a shop may give only the keys it changes)."""
    return {**DEFAULTS["SEARCH"], **(recommender_settings.SEARCH or {})}


# ------------------------------------------------------------------------------------------------ vocabulary

# The typo path's vocabulary, built from the serving snapshot's products (titles, brands, categories) and kept as
# long as that snapshot's products part is: rebuilt within SNAPSHOT_TTL_S of a product change, not when only
# trending or complements change (a million products take a minute to read).
_vocabularies: weakref.WeakKeyDictionary[CatalogProducts, Vocabulary] = weakref.WeakKeyDictionary()
_vocabulary_lock = threading.Lock()
# A large catalog's vocabulary is counted once per products version for every process (shared_vocabulary)
VOCABULARY_KEEP_S = 7 * 24 * 3600  # a products version that stays unchanged keeps its vocabulary this long
VOCABULARY_BUILD_S = 300  # a builder that died frees the build after this long
VOCABULARY_WAIT_POLL_S = 0.25


def catalog_vocabulary(snapshot: CatalogSnapshot) -> Vocabulary:
    with _vocabulary_lock:
        found = _vocabularies.get(snapshot.catalog)
        if found is None:
            if snapshot.catalog.lazy:
                found = shared_vocabulary(snapshot.catalog.adapter, snapshot.part_keys["products"])
            else:
                found = Vocabulary.from_texts(
                    f"{p.title} {p.brand} {p.category.replace('>', ' ')}" for p in snapshot.products.all()
                )
            _vocabularies[snapshot.catalog] = found
        return found


def shared_vocabulary(adapter: DefaultProductAdapter, version: tuple[Any, ...]) -> Vocabulary:
    """A large catalog's vocabulary, counted by one process per products version and read from Redis by the others.

    Counting it is 20+ s of PostgreSQL at 1M products: every serving process (gunicorn workers, hosts, the stacks
    of a deploy) counting its own was that much per process on the database after each product change. The first
    process to need it takes a lock in Redis and counts; the others wait for its result (polling, up to
    VOCABULARY_BUILD_S, then count themselves: a builder that died must not leave search without typo
    corrections). Without Redis, each counts its own, as before."""
    db = connection.settings_dict
    digest = hashlib.sha1(repr((db.get("HOST"), db.get("PORT"), db.get("NAME"), version)).encode()).hexdigest()
    key = f"dragonrec:vocabulary:{digest[:20]}"
    try:
        client = get_redis_connection("default")
        deadline = time.monotonic() + VOCABULARY_BUILD_S
        while True:
            stored = client.get(key)
            if stored is not None:
                return Vocabulary(orjson.loads(zlib.decompress(stored)))
            # redis-py's lock releases only its own token: a build that outlived VOCABULARY_BUILD_S leaves the
            # next builder's lock alone
            build = client.lock(f"{key}:build", timeout=VOCABULARY_BUILD_S, blocking_timeout=0)
            if build.acquire(blocking=False):
                try:
                    found = _vocabulary_in_sql(adapter)
                    client.set(key, zlib.compress(orjson.dumps(found.counts)), ex=VOCABULARY_KEEP_S)
                    return found
                finally:
                    with contextlib.suppress(LockError):  # expired meanwhile: nothing of ours to release
                        build.release()
            if time.monotonic() > deadline:
                break
            time.sleep(VOCABULARY_WAIT_POLL_S)
    except RedisError:
        pass
    return _vocabulary_in_sql(adapter)


def _vocabulary_in_sql(adapter: DefaultProductAdapter) -> Vocabulary:
    """A large catalog's vocabulary: PostgreSQL splits and counts the words of a million products (seconds, and no
    Python thread holds the GIL for a minute meanwhile, which stalled every request of its process); Python
    normalises the distinct words. A product counts once per whitespace-separated token, so a word in two tokens
    of one product ("USB-C usb") counts twice: counts only order corrections of equal distance."""
    doc = Concat(
        F(adapter.title_field), Value(" "), F(adapter.brand_field), Value(" "), F(adapter.category_path_field),
        output_field=TextField(),
    )  # fmt: skip
    inner, params = adapter.queryset().annotate(doc=doc).values_list("doc").query.sql_with_params()
    counts: Counter[str] = Counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT w.token, count(*) FROM ({inner}) AS p(doc), LATERAL (SELECT DISTINCT token FROM "
            "regexp_split_to_table(replace(lower(p.doc), '>', ' '), '\\s+') AS token) AS w GROUP BY w.token",
            params,
        )
        for token, n in cursor.fetchall():
            for word in set(words(token)):
                if len(word) > 1:
                    counts[word] += int(n)
    return Vocabulary(dict(counts))


def catalog_category_paths(snapshot: CatalogSnapshot) -> list[str]:
    """The distinct category paths of the snapshot's products (from its columns: no pass over the products)."""
    return [str(path) for path in snapshot.catalog.categories[0]]


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
    vector: np.ndarray = embedder.encode([text])[0]
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
    products: ProductStore,
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
    ranker: Ranker,
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
