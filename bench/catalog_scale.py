#!/usr/bin/env python
"""What one serving process pays for a large catalog (issues #24/#25): the catalog snapshot's build time and memory,
a trending-only rebuild, a request's product and vector lookups, rendering a list's products (from the snapshot's
rows, and from a query as before), and the large-catalog nearest-neighbour search (MappedVectors' 8-bit inverted
file, float re-rank) with its recall@10 against exact search over the same vectors, per probe width (--nprobe).

    DATABASE_URL='postgres://postgres@%2F<repo>%2Fvar%2Fpg/dragonrec_scale' \
        nice -n 10 .venv/bin/python bench/catalog_scale.py --queries 200

Run against a generated shop (`manage.py dragonrec_generate`, docs/scaling.md). The first run writes the shared
vector files (minutes at 1M products); later runs and every serving process map them. Queries are the vectors of
random products (a product page's "similar items"), top-100 with the availability filter, each query's own product
excluded. Times are wall clock on this machine: say the load average beside them (printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mb() -> float:
    # resident set (private heap and the mapped file pages this process touched; the latter are shared)
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--nprobe", type=int, nargs="*", default=[], help="also measure these probe widths")
    parser.add_argument("--category-k", type=int, default=20, help="k of the searches within a product's category")
    parser.add_argument("--vocabulary", action="store_true", help="also time the shared typo vocabulary")
    parser.add_argument("--count-before", action="store_true", help="also time the version query's old COUNTs")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from dragonrec.categories import category_within
    from dragonrec.recommender import stores
    from dragonrec.recommender.adapters import product_adapter
    from dragonrec.recommender.core.stores import VectorFilter
    from dragonrec.recommender.services.embeddings import embedder_get

    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    embedder, adapter = embedder_get(), product_adapter()
    base = rss_mb()
    started = time.perf_counter()
    versions = stores._snapshot_version(adapter, embedder.name)
    print(f"version query: {1000 * (time.perf_counter() - started):.0f} ms", flush=True)
    if args.count_before:
        from django.db.models import Count, Max

        from dragonrec.recommender.models import (
            CategoryComplement,
            ProductComplement,
            ProductEmbedding,
            TrendingScore,
        )

        started = time.perf_counter()  # what the version query did before: COUNT + MAX over every source table
        adapter.queryset().aggregate(n=Count("pk"), last=Max(adapter.updated_field))
        ProductEmbedding.objects.filter(model_name=embedder.name).aggregate(n=Count("id"), last=Max("embedded_at"))
        for model in (TrendingScore, ProductComplement, CategoryComplement):
            model.objects.aggregate(n=Count("id"), last=Max("computed_at"))
        print(f"version query counting every row (before): {1000 * (time.perf_counter() - started):.0f} ms")
    started = time.perf_counter()
    snapshot = stores.CatalogSnapshot(adapter=adapter, model_name=embedder.name, dim=embedder.dim, versions=versions)
    print(f"snapshot: {snapshot.size} products, lazy={snapshot.catalog.lazy}, built in "
          f"{time.perf_counter() - started:.1f} s, RSS +{rss_mb() - base:.0f} MB", flush=True)  # fmt: skip
    started = time.perf_counter()
    changed = {**versions, "trending": ("a new trending run",)}
    again = stores.CatalogSnapshot(
        adapter=adapter, model_name=embedder.name, dim=embedder.dim, versions=changed, previous=snapshot
    )
    print(f"trending-only rebuild: {time.perf_counter() - started:.1f} s, rebuilt {again.built}", flush=True)
    if args.vocabulary:
        from django_redis import get_redis_connection

        from dragonrec.recommender.services.search import ranking

        client = get_redis_connection("default")
        for key in client.scan_iter("dragonrec:vocabulary:*"):  # counted afresh
            client.delete(key)
        for label in ("counted in PostgreSQL and stored in Redis", "read from Redis (another process)"):
            ranking._vocabularies.clear()
            started = time.perf_counter()
            words = len(ranking.catalog_vocabulary(again))
            print(f"typo vocabulary {label}: {time.perf_counter() - started:.2f} s, {words} words", flush=True)
    store = stores.OrmProductStore(again)
    index = stores.PgVectorIndex(model_name=embedder.name, dim=embedder.dim, snapshot=again, exact_max=0)
    rng = np.random.default_rng(0)
    all_ids = np.asarray(snapshot.catalog.ids)
    picks = [int(i) for i in rng.choice(all_ids, size=min(args.queries, len(all_ids)), replace=False)]
    for label in ("cold", "warm"):
        started = time.perf_counter()
        store.get_many(picks[:200])
        print(f"get_many(200) {label}: {1000 * (time.perf_counter() - started):.2f} ms")
    if snapshot.catalog.rows is not None:  # what rendering a list's products costs without a query, and with one
        from dragonrec.recommender.conf import recommender_settings
        from dragonrec.recommender.selectors import products_by_ids

        render = recommender_settings.PRODUCT_SERIALIZER
        for label, load in (
            ("the snapshot's rows", lambda ids: list(snapshot.catalog.instances(ids).values())),
            ("a query (before)", lambda ids: list(products_by_ids(ids).values())),
        ):
            started = time.perf_counter()
            for at in range(0, 200, 20):
                rendered = render(load(picks[at : at + 20]), many=True).data
                assert len(rendered) == 20
            print(f"render 20 products from {label}: {1000 * (time.perf_counter() - started) / 10:.2f} ms")
    started = time.perf_counter()
    queries, found = index.vectors(picks)
    print(f"vectors({len(picks)}): {1000 * (time.perf_counter() - started):.2f} ms, {int(found.sum())} found")
    search = again.search
    if search is None:
        print("(exact in-memory index: nothing more to measure)")
        return 0
    mapped = search.vectors
    matrix = mapped.matrix  # exact reference: one product with the whole (mapped) matrix per query
    available_rows = np.flatnonzero(search.available)
    categories = {pid: product.category for pid, product in store.get_many(picks).items()}

    def timed(label: str, run: Any, recall: Any = None) -> None:
        times, cpu, recalls = [], [], []
        for pid, query in zip(picks, queries, strict=True):
            started, started_cpu = time.perf_counter(), time.thread_time()
            hits = run(pid, query)
            times.append(1000 * (time.perf_counter() - started))
            cpu.append(1000 * (time.thread_time() - started_cpu))
            if recall is not None:
                recalls.append(recall(pid, query, hits))
        p50, p95 = np.percentile(times, [50, 95])
        c50, c95 = np.percentile(cpu, [50, 95])
        quality = f"; recall@10 vs exact {np.mean(recalls):.3f}" if recalls else ""
        print(f"{label}: wall p50 {p50:.2f} / p95 {p95:.2f} ms, CPU p50 {c50:.2f} / p95 {c95:.2f} ms{quality} "
              f"({len(picks)} queries)", flush=True)  # fmt: skip

    def exact_recall(pid: int, query: np.ndarray, hits: list[tuple[int, float]]) -> float:
        scores = (matrix @ query)[available_rows]
        best = available_rows[np.argsort(-scores)[:11]]
        exact = [int(i) for i in np.asarray(mapped.ids)[best] if int(i) != pid][:10]
        return len({p for p, _ in hits[:10]} & set(exact)) / 10

    def plain(pid: int, query: np.ndarray) -> list[tuple[int, float]]:
        return search.top(query, args.k, VectorFilter(exclude=(pid,)))

    def in_category(pid: int, query: np.ndarray) -> list[tuple[int, float]]:
        where = VectorFilter(exclude=(pid,), categories=(categories.get(pid, ""),))
        return search.top(query, args.category_k, where)

    for nprobe in [mapped.NPROBE, *args.nprobe]:
        mapped.NPROBE = nprobe
        search._neighbours.clear()  # every query a miss: the search itself
        timed(f"IVF top-{args.k} nprobe {nprobe}", plain, exact_recall)
    mapped.NPROBE = type(mapped).NPROBE
    timed(f"IVF top-{args.k}, the same queries again (kept neighbours)", plain)
    search._neighbours.clear()
    started = time.perf_counter()
    search.category_ordered()  # the category-ordered copy: written by the first process of a version, then mapped
    print(f"category-ordered copy of the vectors: ready in {time.perf_counter() - started:.1f} s")
    paths, codes = again.catalog.categories
    catalog_ids = np.asarray(again.catalog.ids)

    def category_recall(pid: int, query: np.ndarray, hits: list[tuple[int, float]]) -> float:
        # exact by another road: the category's products from the catalog's columns, their rows gathered
        matching = np.flatnonzero([category_within(str(p), [categories.get(pid, "")]) for p in paths])
        rows = mapped.rows(catalog_ids[np.isin(codes, matching)].tolist())
        rows = rows[(rows >= 0) & search.available[np.maximum(rows, 0)]]
        scores = np.asarray(matrix[rows]) @ query
        ranked = np.asarray(mapped.ids)[rows][np.lexsort((np.asarray(mapped.ids)[rows], -scores))]
        exact = [int(i) for i in ranked if int(i) != pid][:10]
        return len({p for p, _ in hits[:10]} & set(exact)) / max(1, len(exact))

    timed(
        f"top-{args.category_k} within the product's category (exact: a slice of the category-ordered copy)",
        in_category,
        category_recall,
    )
    timed(f"top-{args.category_k} within the category, again (kept neighbours)", in_category)
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
