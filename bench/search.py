"""Search quality and speed (issue #20): lexical only vs blended vs personalised on the demo catalog, p95 latency at
1,000 and 100,000 products, and a real-data check on Amazon titles with typos.

    .venv/bin/python bench/search.py                              # everything (~4 min on 2 busy cores)
    .venv/bin/python bench/search.py --sizes 1000 --no-real       # quick

Runs in a scratch database of its own on this checkout's embedded PostgreSQL (`dragonrec_bench_search`, created,
migrated and dropped; Redis is the embedded one), calling the serving function `search_products` (what
`GET /api/search/` runs, without the HTTP layer and without recording the list: recording is one Redis push).

1. Quality, demo catalog (300 products, real MiniLM embeddings): QUERIES below, written for the benchmark (plain
   words, brand + type, misspellings, synonyms/descriptions, multi-word, non-ASCII), each with the leaf category it
   means. Per mode: precision of the top 5 (share of the intended category), the rank of the first relevant item,
   and the bars of the issue. "personalised" is a shopper who viewed two products of the intended category from one
   brand: P@5 as before, and how often the top hit is of that brand (against the same share unpersonalised).
2. Latency: the catalog grown to each --sizes with generated variants of the demo products (COPY; a variant's
   embedding is its template's plus noise, since MiniLM on 100,000 texts would take most of an hour on 2 cores),
   search vectors written by the real index writer, pgvector's HNSW index built after the load. Every query once to
   warm up, then --rounds rounds; "cold" clears the query-vector cache before each call (every query pays the MiniLM
   pass), "warm" keeps it (a popular query). Load average printed beside the figures.
3. Real data (../shared/data/amazon_beauty, skipped when absent): the whole item catalog imported, lexical + typo
   path (semantic off: embedding 12,000 titles would take minutes), queries made of three words of a held-out
   item's title with one typo injected; is the item in the top 10.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep instead of spinning (shared box)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import argparse
import io
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"
DB_NAME = "dragonrec_bench_search"

# (query, intended leaf category, kind of query)
QUERIES: list[tuple[str, str, str]] = [
    ("keyboard", "Keyboards", "plain"),
    ("mouse", "Mice", "plain"),
    ("monitor", "Monitors", "plain"),
    ("laptop", "Laptops", "plain"),
    ("headphones", "Headphones", "plain"),
    ("webcam", "Webcams", "plain"),
    ("mug", "Mugs", "plain"),
    ("notebook", "Notebooks & Paper", "plain"),
    ("yoga mat", "Yoga Mats", "multi-word"),
    ("coffee maker", "Coffee Makers", "multi-word"),
    ("running shoes", "Running Shoes", "multi-word"),
    ("water bottle", "Water Bottles", "multi-word"),
    ("desk lamp", "Desk Lamps", "multi-word"),
    ("usb c hub", "USB Hubs & Docks", "multi-word"),
    ("phone case", "Phone Cases", "multi-word"),
    ("Lumora monitor", "Monitors", "brand+type"),
    ("Keyforge keyboard", "Keyboards", "brand+type"),
    ("Orbix mouse", "Mice", "brand+type"),
    ("Lotusform yoga mat", "Yoga Mats", "brand+type"),
    ("Brewhaus coffee maker", "Coffee Makers", "brand+type"),
    ("moniter", "Monitors", "misspelt"),
    ("coffe maker", "Coffee Makers", "misspelt"),
    ("keybaord", "Keyboards", "misspelt"),
    ("headphnes", "Headphones", "misspelt"),
    ("runing shoes", "Running Shoes", "misspelt"),
    ("yoga matt", "Yoga Mats", "misspelt"),
    ("something to type on", "Keyboards", "synonym"),
    ("display screen", "Monitors", "synonym"),
    ("earphones for music", "Headphones", "synonym"),
    ("espresso", "Coffee Makers", "synonym"),
    ("office chair", "Desk Chairs", "synonym"),
    ("ssd", "SSDs & Flash Drives", "synonym"),
    ("\uff4d\uff4f\uff4e\uff49\uff54\uff4f\uff52", "Monitors", "non-ascii"),  # fullwidth
    ("KEY\u00adBOARD", "Keyboards", "non-ascii"),  # soft hyphen, capitals
    ("caf\u00e9 mug", "Mugs", "non-ascii"),
    ("Yoga\u00a0Mat", "Yoga Mats", "non-ascii"),  # no-break space
]
BARS = {"keyboard": 5, "mouse": 5, "yoga mat": 5, "moniter": 3, "coffe maker": 3}
MODES = {
    "lexical": {"semantic": False, "personalise": False},
    "blended": {"semantic": True, "personalise": False},
    "personalised": {"semantic": True, "personalise": True},
}


def scratch_database() -> None:
    from _scratch import scratch_database as create

    create(DB_NAME)


def drop_database() -> None:
    from _scratch import drop_database as drop

    drop(DB_NAME)


def load() -> str:
    from _scratch import load as loadavg

    return loadavg()


def reset_caches() -> None:
    from dragonrec.recommender.core.caching import process_caches_reset

    process_caches_reset()


EXTRA: dict[str, Any] = {}  # --rank-window


def run_search(query: str, *, mode: dict[str, Any], session_id: str = "", page_size: int = 10) -> Any:
    from django.test import override_settings

    from dragonrec.recommender.services.search import search_products

    with override_settings(RECOMMENDER={"SEARCH": {**mode, **EXTRA}}):  # everything else at its default
        return search_products(query=query, session_id=session_id, page_size=page_size, record=False)


# ------------------------------------------------------------------------------------------------ 1. quality


def quality() -> None:
    from django.utils import timezone

    from dragonrec.catalog.models import Product
    from dragonrec.tracking.models import Event

    leaf = {
        p.pk: p.category.path.rsplit(" > ", 1)[-1] if p.category else ""
        for p in Product.objects.select_related("category")
    }
    brand = dict(Product.objects.values_list("pk", "brand"))
    print("\n== quality on the demo catalog:", len(leaf), "products,", len(QUERIES), "queries")
    header = f"{'query':<24} {'kind':<11}" + "".join(f" {m[:5] + ' P@5':>10} {'first':>6}" for m in MODES)
    print(header)
    totals: dict[str, list[tuple[float, int]]] = {m: [] for m in MODES}
    bars: dict[str, dict[str, int]] = {m: {} for m in MODES}
    by_kind: dict[tuple[str, str], list[float]] = {}
    brand_top = {"personalised": 0, "blended": 0}
    import uuid

    for n, (query, intended, kind) in enumerate(QUERIES):
        # the personalised shopper: viewed two products of the intended kind from the brand with the most of them
        of_kind = [pid for pid, name in leaf.items() if name == intended]
        top_brand = max({brand[p] for p in of_kind}, key=lambda b: sum(brand[p] == b for p in of_kind))
        chosen = [p for p in of_kind if brand[p] == top_brand][-2:]
        session = f"bench-search-{n}"
        # stored directly: no receivers, so no Celery message is left behind for a worker that is not running
        Event.objects.bulk_create(
            [
                Event(id=uuid.uuid4(), type="view", product_id=p, session_id=session, timestamp=timezone.now())
                for p in chosen
            ]
        )
        row = f"{query[:24]:<24} {kind:<11}"
        for name, mode in MODES.items():
            result = run_search(query, mode=mode, session_id=session if name == "personalised" else "")
            ids = [i.product_id for i in result.items]
            hits = [leaf.get(pid) == intended for pid in ids]
            p5 = sum(hits[:5]) / 5
            first = next((i + 1 for i, hit in enumerate(hits) if hit), 0)  # 0: not in the top 10
            totals[name].append((p5, first))
            by_kind.setdefault((name, kind), []).append(p5)
            if query in BARS:
                bars[name][query] = sum(hits[:5])
            if name in brand_top and ids:
                brand_top[name] += brand[ids[0]] == top_brand
            row += f" {p5:>10.1f} {first if first else '>10':>6}"
        print(row)
    print(f"{'mean':<36}" + "".join(f" {np.mean([p for p, _ in totals[m]]):>10.3f} {'':>6}" for m in MODES))
    for name in MODES:
        firsts = [f for _, f in totals[name]]
        found = [f for f in firsts if f]
        print(
            f"  {name:<13} P@5 {np.mean([p for p, _ in totals[name]]):.3f}; first relevant: mean rank "
            f"{np.mean(found):.2f} over the {len(found)}/{len(firsts)} queries with one in the top 10; by kind: "
            + ", ".join(f"{k} {np.mean(v):.2f}" for (m, k), v in by_kind.items() if m == name)
        )
    fullwidth = run_search(QUERIES[32][0], mode=MODES["blended"], page_size=50)
    ascii_ = run_search("monitor", mode=MODES["blended"], page_size=50)
    same = [i.product_id for i in fullwidth.items] == [i.product_id for i in ascii_.items]
    print(
        f"  bars (items of the kind in the top 5, blended): {bars['blended']}; fullwidth 'monitor' = ascii: {same} "
        f"({fullwidth.count} vs {ascii_.count})"
    )
    print(
        f"  top hit of the browsed brand: personalised {brand_top['personalised']}/{len(QUERIES)}, "
        f"unpersonalised {brand_top['blended']}/{len(QUERIES)}"
    )
    zero = run_search("mnitr", mode=MODES["blended"])
    print(
        f"  zero-result 'mnitr': count {zero.count}, did you mean {zero.corrected_query!r}, "
        f"{len(zero.recommendations.items) if zero.recommendations else 0} recommendations"
    )


# ------------------------------------------------------------------------------------------------ 2. latency

ADJECTIVES = ["Pro", "Max", "Lite", "Plus", "Air", "Ultra", "Mini", "Prime", "Neo", "Edge", "Core", "Flex"]
COLOURS = ["Black", "White", "Graphite", "Silver", "Blue", "Red", "Green", "Sand", "Rose", "Navy"]


def grow_catalog(size: int, rng: random.Random) -> None:
    """Variants of the demo products until the catalog has `size` products: rows and embeddings by COPY, search
    vectors by the real index writer, the HNSW index rebuilt after the load (faster than row by row)."""
    from django.db import connection
    from django.utils import timezone

    from dragonrec.bulk import copy_rows
    from dragonrec.catalog.models import Product
    from dragonrec.catalog.search import product_search_index_update
    from dragonrec.recommender.models import ProductEmbedding
    from dragonrec.recommender.services.embeddings import embedder_get

    have = Product.objects.count()
    if have >= size:
        return
    model = embedder_get().name
    templates = list(
        Product.objects.filter(sku__regex=r"^[A-Z]{2}-").values(
            "pk", "title", "brand", "description", "category_id", "price"
        )
    )
    vectors = {
        pid: np.asarray(v, dtype=np.float32)
        for pid, v in ProductEmbedding.objects.filter(product_id__in=[t["pk"] for t in templates]).values_list(
            "product_id", "vector"
        )
    }
    start = time.perf_counter()
    now = timezone.now().isoformat()
    table = Product._meta.db_table
    rows = io.StringIO()
    skus = []
    for i in range(have, size):
        t = rng.choice(templates)
        sku = f"GEN-{i:07d}"
        skus.append((sku, t["pk"]))
        title = f"{t['title']} {rng.choice(ADJECTIVES)} {rng.randint(2, 99)}, {rng.choice(COLOURS)}"
        price = "" if t["price"] is None else f"{float(t['price']) * rng.uniform(0.7, 1.4):.2f}"
        fields = [
            sku,
            title,
            t["description"],
            t["brand"],
            str(t["category_id"]),
            price or "\\N",
            "USD",
            "10",
            "t",
            "t",
            "{}",
            "",
            now,
            now,
        ]
        rows.write("\t".join(f.replace("\t", " ").replace("\n", " ") for f in fields) + "\n")
    columns = (
        "sku, title, description, brand, category_id, price, currency, stock_quantity, in_stock, is_active, "
        "attributes, image_url, created_at, updated_at"
    )
    copy_rows(table, columns, [rows.getvalue()])  # the shop generator's COPY writer (dragonrec/bulk.py)
    ids = dict(Product.objects.filter(sku__startswith="GEN-").values_list("sku", "pk"))
    print(f"  {size - have} products copied in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    indexed = product_search_index_update(ids=list(ids.values()))
    print(f"  {indexed} search vectors written in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    emb = io.StringIO()
    nrng = np.random.default_rng(size)
    for sku, template in skus:
        vector = vectors[template] + nrng.normal(0, 0.02, size=vectors[template].shape).astype(np.float32)
        vector /= np.linalg.norm(vector)
        emb.write(f"{ids[sku]}\t{model}\t[{','.join(f'{x:.5f}' for x in vector)}]\tgenerated\t{now}\n")
    etable = ProductEmbedding._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS dragonrec_embedding_hnsw")
    copy_rows(etable, "product_id, model_name, vector, text_hash, embedded_at", [emb.getvalue()])
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(
            f"CREATE INDEX dragonrec_embedding_hnsw ON {etable} USING hnsw (vector vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"ANALYZE {etable}")
    print(f"  embeddings copied and HNSW index built in {time.perf_counter() - start:.1f} s", flush=True)


def latency(sizes: list[int], rounds: int) -> None:
    from dragonrec.recommender.services.search import ranking as search_module

    rng = random.Random(0)
    queries = [q for q, _, _ in QUERIES]
    mode = {"semantic": True, "personalise": True}
    for size in sizes:
        print(f"\n== latency at {size:,} products", flush=True)
        grow_catalog(size, rng)
        reset_caches()
        start = time.perf_counter()
        run_search("keyboard", mode=mode)  # snapshot, vocabulary, embedder
        print(f"  first search (snapshot + vocabulary build) {time.perf_counter() - start:.1f} s")
        for q in queries:
            run_search(q, mode=mode)
        for label, cold in (("cold", True), ("warm", False)):
            times = []
            for _ in range(rounds):
                for q in queries:
                    if cold:
                        search_module._query_vectors.clear()
                    t0 = time.perf_counter()
                    run_search(q, mode=mode, session_id="bench-search-0")
                    times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            p95 = times[int(0.95 * (len(times) - 1))]
            print(
                f"  {label:<4} (query vector {'computed' if cold else 'cached'}): {len(times)} searches, p50 "
                f"{statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms; load average {load()}",
                flush=True,
            )
        typo = []
        for q in ("moniter", "keybaord", "headphnes", "runing shoes", "coffe maker"):
            t0 = time.perf_counter()
            run_search(q, mode=mode)
            typo.append((time.perf_counter() - t0) * 1000)
        print(f"  misspelt queries (warm): max {max(typo):.1f} ms")


# ------------------------------------------------------------------------------------------------ 3. real data


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word))  # keep the first letter, as most typos do
    kind = rng.choice(["delete", "swap", "replace", "insert"])
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "swap" and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return word[:i] + letter + word[i + (1 if kind == "replace" else 0) :]


def real_data(data: Path, dataset: str, n_queries: int) -> None:
    from dragonrec.catalog.models import Product
    from dragonrec.catalog.services import catalog_import
    from dragonrec.textsearch import words

    folder = data / dataset
    if not (folder / "items.jsonl").exists():
        print(f"\n== real data: {folder} is absent, skipped")
        return
    print(f"\n== real data: {dataset}", flush=True)
    Product.objects.all().delete()
    start = time.perf_counter()
    report = catalog_import(path=folder / "items.jsonl")
    print(f"  {report.created} items imported and indexed in {time.perf_counter() - start:.1f} s", flush=True)
    reset_caches()
    rng = random.Random(1)
    items = [json.loads(line) for line in (folder / "items.jsonl").open()]
    items = [i for i in items if len([w for w in words(i.get("title")) if len(w) >= 4 and w.isalpha()]) >= 3]
    rng.shuffle(items)
    by_sku = dict(Product.objects.values_list("sku", "pk"))
    mode = {"semantic": False, "personalise": False}
    found = {"exact": 0, "typo": 0}
    ranks = []
    times = []
    for item in items[:n_queries]:
        title_words = [w for w in dict.fromkeys(words(item["title"])) if len(w) >= 4 and w.isalpha()]
        chosen = rng.sample(title_words, 3)
        target = by_sku[str(item["item_id"])]
        for label, query_words in (("exact", chosen), ("typo", [_typo(chosen[0], rng), *chosen[1:]])):
            t0 = time.perf_counter()
            result = run_search(" ".join(query_words), mode=mode)
            times.append((time.perf_counter() - t0) * 1000)
            ids = [i.product_id for i in result.items]
            if target in ids:
                found[label] += 1
                if label == "typo":
                    ranks.append(ids.index(target) + 1)
    n = min(n_queries, len(items))
    times.sort()
    print(
        f"  {n} held-out titles, 3 of their words: in the top 10 {found['exact']}/{n} ({found['exact'] / n:.1%}); "
        f"with one typo {found['typo']}/{n} ({found['typo'] / n:.1%}, mean rank {np.mean(ranks):.2f}); "
        f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms; load average {load()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000", help="catalog sizes for the latency figures")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the query set per latency figure")
    parser.add_argument("--no-real", action="store_true", help="skip the real-data check")
    parser.add_argument("--real-dataset", default="amazon_beauty")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the shared datasets (default ../shared/data)")
    parser.add_argument("--no-quality", action="store_true", help="skip the quality table")
    parser.add_argument("--rank-window", type=int, help="SEARCH['rank_window'] (default: the setting's)")
    parser.add_argument("--real-queries", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help=f"keep the scratch database {DB_NAME}")
    args = parser.parse_args()
    if args.rank_window:
        EXTRA["rank_window"] = args.rank_window

    scratch_database()
    import django

    django.setup()
    from django.core.management import call_command

    try:
        print(f"load average at start {load()}", flush=True)
        call_command("migrate", verbosity=0)
        from dragonrec.catalog.demo import __file__ as demo_init
        from dragonrec.catalog.services import catalog_import
        from dragonrec.recommender.services.embeddings import product_embeddings_refresh_all

        catalog_import(path=Path(demo_init).parent / "products.jsonl")
        product_embeddings_refresh_all()
        if not args.no_quality:
            quality()
        latency([int(s) for s in args.sizes.split(",") if s], args.rounds)
        if not args.no_real:
            real_data(args.data_dir, args.real_dataset, args.real_queries)
        print(f"load average at the end {load()}")
    finally:
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    main()
