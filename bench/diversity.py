"""Diversity before and after the re-ranking stage (MMR + category cap), and the accuracy it costs. No Django.

    python bench/diversity.py --dataset demo                               # the shipped demo catalog + sessions
    python bench/diversity.py --dataset ../shared/data/amazon_beauty       # any folder in the common format
    python bench/diversity.py --dataset ../shared/data/amazon_beauty --max-users 5000 --ablations

Protocol: the harness's leave-one-out split (recommender.evaluation.dataset), and the harness's own `pipeline-nodiv`
(re-ranking off: diversity 0, no category cap) and `pipeline` (re-ranking on: the PipelineConfig defaults) rankers,
i.e. the serving Pipeline on in-memory stores built from the training part only. Both see the same users and the
same inputs (train + validation item); the metrics are taken on the top 10 of each page:

* NDCG@10, Recall@10 of the held-out test item, and the paired difference on - off with a 95% confidence interval;
* ILD@10 (mean pairwise cosine distance of the item text embeddings), distinct leaf categories per list, catalog
  coverage across users, novelty (mean -log2 share of training users who touched the item);
* complement rate: share of the page in another leaf category than the context item (the user's most recent input
  item) that co-occurs with it within `COOCCURRENCE_WINDOW` events of some training sequence. Computed from the
  train split only, the same data the complement source learns from, so it says "surfaces known complements",
  not "predicts held-out ones".

On the demo catalog three scenarios follow (brand-new visitor; one monitor viewed, product page; monitor in the
cart), each with and without re-ranking, on the same train-part stores.

Fixed seeds and a fixed demo clock: two runs print identical tables; only the timing lines differ. Results also go
to --out (default var/eval/diversity/<dataset>/results.{md,json}).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Before numpy loads: one BLAS thread (see harness.single_threaded_blas for why).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from dragonrec.categories import category_leaf  # noqa: E402
from dragonrec.recommender.core.aggregates import DEFAULT_EVENT_WEIGHTS, AggregateConfig  # noqa: E402
from dragonrec.recommender.core.base import Ranker  # noqa: E402
from dragonrec.recommender.core.metrics import complement_rate, cooccurring_items, ndcg_at_k, recall_at_k  # noqa: E402
from dragonrec.recommender.core.pipeline import Pipeline, PipelineConfig  # noqa: E402
from dragonrec.recommender.core.types import ADD_TO_CART, VIEW, Context, HistoryEvent, Product, ProductId  # noqa: E402
from dragonrec.recommender.evaluation.baselines import PipelineRanker  # noqa: E402
from dragonrec.recommender.evaluation.dataset import Split, leave_one_out, load_dataset  # noqa: E402
from dragonrec.recommender.evaluation.harness import (  # noqa: E402
    BEYOND_K,
    DEFAULT_CACHE_DIR,
    DEFAULT_OUT_ROOT,
    KS,
    RANKERS,
    Catalog,
    EvalResources,
    Task,
    beyond_accuracy,
    make_catalog,
    make_task,
    rank_all,
    single_threaded_blas,
)

DEMO_NOW = datetime(2026, 11, 1, tzinfo=UTC)  # fixed clock: the demo sessions (and every number) are reproducible
DEMO_SEED = 7  # generate_sessions' default
DEMO_DIR = DEFAULT_OUT_ROOT / "demo-dataset"
COOCCURRENCE_WINDOW = AggregateConfig.window  # "bought/viewed together": the same 5-event reach as the aggregates
PAGE = 10  # the scenarios' page size; a category cap of PAGE never binds, i.e. "no cap"
Z95 = 1.96
MONITORS = "Electronics > Displays > Monitors"
# Leaf categories counted in the monitor scenarios: the accessories that go with a monitor (complements.json).
MONITOR_PARTNERS = {
    "keyboards": "Electronics > Computer Accessories > Keyboards",
    "mice": "Electronics > Computer Accessories > Mice",
    "cables": "Electronics > Computer Accessories > Cables & Adapters",
}
log = logging.getLogger("bench.diversity")


# ----------------------------------------------------------------------------------------------------- demo data


def write_demo_dataset(out_dir: Path = DEMO_DIR, *, now: datetime = DEMO_NOW, seed: int = DEMO_SEED) -> Path:
    """The demo catalog and its generated sessions in the common format (items.jsonl + events.csv).

    Anonymous sessions become their own user ("anon-<session id>"). Each (user, product) is kept once, at its first
    touch, with its strongest event type (purchase > add_to_cart > view): the demo logs a view, a cart add and a
    purchase of the same product, and leave-one-out with history exclusion would otherwise hold out an item the
    user already touched, which no ranker may recommend. Timestamps are unix seconds.
    """
    from dragonrec.catalog.demo.sessions import generate_sessions, load_products

    products = load_products()
    events = generate_sessions(products=products, seed=seed, now=now)
    first: dict[tuple[str, str], tuple[int, str]] = {}
    for event in events:  # already sorted by (timestamp, session id)
        key = (event.user or f"anon-{event.session_id}", event.sku)
        seen, kind = first.get(key, (int(event.timestamp.timestamp()), event.type))
        if DEFAULT_EVENT_WEIGHTS.get(event.type, 0.0) > DEFAULT_EVENT_WEIGHTS.get(kind, 0.0):
            kind = event.type
        first[key] = (seen, kind)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "items.jsonl", "w", encoding="utf-8") as handle:
        for p in products:
            row = {key: p.get(key) for key in ("item_id", "title", "brand", "category", "description")}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    with open(out_dir / "events.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "event_type", "timestamp"])
        for (user, sku), (timestamp, kind) in sorted(first.items(), key=lambda kv: (kv[0][0], kv[1][0], kv[0][1])):
            writer.writerow([user, sku, kind, timestamp])
    return out_dir


# ----------------------------------------------------------------------------------------------------- evaluation


def _ablations(on: PipelineRanker) -> dict[str, PipelineRanker]:
    """Each re-ranking component alone, on the `pipeline` ranker's own stores."""
    config = on.pipeline.config
    rerank = config.rerank
    store, index = on.pipeline.products, on.pipeline.index
    mmr_only = replace(config, rerank=replace(rerank, category_cap=None, category_bonus=0.0))
    cap_only = replace(config, rerank=replace(rerank, diversity=0.0, category_bonus=0.0))
    return {
        f"MMR only (diversity {rerank.diversity}, no cap)": PipelineRanker(
            Pipeline.default(products=store, index=index, config=mmr_only), n=max(KS)
        ),
        f"cap only (diversity 0, cap {rerank.category_cap})": PipelineRanker(
            Pipeline.default(products=store, index=index, config=cap_only), n=max(KS)
        ),
    }


def evaluate_variant(
    ranker: Ranker, split: Split, task: Task, catalog: Catalog, partners: dict[ProductId, set[ProductId]]
) -> tuple[dict[str, float], np.ndarray]:
    """Top-10 metrics of one ranker, plus its per-user ranks (for the paired difference)."""
    with single_threaded_blas():
        ranks, top = rank_all(ranker, task, split.dataset.n_items)
    lists = top[:, :BEYOND_K]
    category_of = {p.id: p.category for p in split.dataset.products}
    contexts = [history[-1].product_id for history in task.inputs]
    rates = [
        complement_rate(context, [int(i) for i in page], category_of=category_of, cooccurring=partners)
        for context, page in zip(contexts, lists, strict=True)
    ]
    beyond = beyond_accuracy(top, catalog)
    metrics = {
        "ndcg@10": ndcg_at_k(ranks, 10),
        "recall@10": recall_at_k(ranks, 10),
        "ild@10": beyond[f"ild@{BEYOND_K}"],
        "categories@10": beyond[f"category_coverage@{BEYOND_K}"],
        "catalog_coverage@10": beyond[f"catalog_coverage@{BEYOND_K}"],
        "novelty@10": beyond[f"novelty@{BEYOND_K}"],
        "complement_rate@10": float(np.mean(rates)) if rates else 0.0,
    }
    return metrics, ranks


def paired_difference(on: np.ndarray, off: np.ndarray) -> tuple[float, float]:
    """Mean of on - off over users and the half-width of its normal-approximation 95% interval."""
    diff = np.asarray(on, dtype=np.float64) - np.asarray(off, dtype=np.float64)
    if len(diff) < 2:
        return float(diff.mean()) if len(diff) else 0.0, math.nan
    return float(diff.mean()), float(Z95 * diff.std(ddof=1) / math.sqrt(len(diff)))


def per_user(ranks: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "ndcg@10": np.array([ndcg_at_k(r, 10) for r in ranks]),
        "recall@10": np.array([recall_at_k(r, 10) for r in ranks]),
    }


# ----------------------------------------------------------------------------------------------------- scenarios


def _leaf(category: str) -> str:
    return category_leaf(category) or "(none)"


def run_scenarios(on: PipelineRanker, off: PipelineRanker, split: Split) -> list[dict[str, Any]]:
    """Brand-new visitor, one monitor viewed (product page), monitor in the cart; with and without re-ranking."""
    store, index = on.pipeline.products, on.pipeline.index
    # Off also for cold requests: pipeline-nodiv keeps the cold category cap, which a cap of PAGE switches off.
    pipelines = {
        "off": Pipeline.default(
            products=store, index=index, config=replace(off.pipeline.config, cold_category_cap=PAGE)
        ),
        "on": on.pipeline,
    }
    products = {p.id: p for p in split.dataset.products}
    popularity = Counter(pid for events in split.train.values() for pid in {e.product_id for e in events})
    monitors = [p for p in split.dataset.products if p.category == MONITORS]
    if not monitors:
        return []
    # The monitor most training users touched (ties: lowest id): a real anchor with learned complements.
    monitor = min(monitors, key=lambda p: (-popularity.get(p.id, 0), p.id))
    now = DEMO_NOW.timestamp()
    viewed = [HistoryEvent(product_id=monitor.id, event_type=VIEW, timestamp=now - 120)]
    carted = [*viewed, HistoryEvent(product_id=monitor.id, event_type=ADD_TO_CART, timestamp=now - 60)]
    contexts = {
        "(a) brand-new visitor, home": Context(scenario="home", n=PAGE, now=now),
        "(b) one monitor viewed, product page": Context(
            scenario="product", history=viewed, anchor_ids=[monitor.id], n=PAGE, now=now
        ),
        "(c) monitor in the cart, cart page": Context(
            scenario="cart", history=carted, anchor_ids=[monitor.id], n=PAGE, now=now
        ),
    }
    partners = cooccurring_items(
        ([e.product_id for e in events] for events in split.train.values()), window=COOCCURRENCE_WINDOW
    )
    category_of = {p.id: p.category for p in split.dataset.products}
    rows = []
    for name, ctx in contexts.items():
        for setting, pipeline in pipelines.items():
            page = [item.product_id for item in pipeline.recommend(replace(ctx)).items]
            categories = [products[i].category for i in page]
            counts = Counter(categories)
            row: dict[str, Any] = {
                "scenario": name,
                "reranking": setting,
                "items": len(page),
                "distinct_categories": len(counts),
                "monitors": counts.get(MONITORS, 0),
                **{key: counts.get(path, 0) for key, path in MONITOR_PARTNERS.items()},
                "complement_rate": (
                    complement_rate(monitor.id, page, category_of=category_of, cooccurring=partners)
                    if ctx.anchor_ids
                    else None
                ),
                "categories": [f"{_leaf(c)} x{n}" for c, n in counts.most_common()],
            }
            rows.append(row)
    rows.append({"anchor": _describe(monitor, popularity.get(monitor.id, 0))})
    return rows


def _describe(product: Product, users: int) -> str:
    return f"{product.title} (id {product.id}, {_leaf(product.category)}, touched by {users} training users)"


# ----------------------------------------------------------------------------------------------------- report

COLUMNS = (
    ("ndcg@10", "NDCG@10", 4),
    ("recall@10", "Recall@10", 4),
    ("ild@10", "ILD@10", 4),
    ("categories@10", "Cats/list@10", 2),
    ("catalog_coverage@10", "Catalog cov@10", 4),
    ("novelty@10", "Novelty@10", 3),
    ("complement_rate@10", "Complement rate@10", 4),
)


def markdown(results: dict[str, Any]) -> str:
    s = results["settings"]
    lines = [
        f"### Re-ranking off vs on: {s['dataset']}",
        "",
        f"- protocol: {s['protocol']}; {s['users_evaluated']} of {s['users_total']} users "
        f"({'seeded sample, seed ' + str(s['seed']) if s['sampled'] else 'all users'}), {s['n_items']} items, "
        f"{s['train_events']} training events",
        f"- off = harness `pipeline-nodiv` ({s['off_config']}); on = harness `pipeline` ({s['on_config']})",
        f"- embeddings: {s['embedder']}; stores (trending, complements) from the train split only, no time decay",
        f"- complement rate: {s['complement_rate']}",
    ]
    lines += [f"- {note}" for note in s["notes"]]
    header = "| re-ranking | " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    lines += ["", header, "| --- |" + " ---: |" * len(COLUMNS)]
    for name, metrics in results["variants"].items():
        lines.append(f"| {name} | " + " | ".join(f"{metrics[key]:.{d}f}" for key, _, d in COLUMNS) + " |")
    delta = results["delta"]
    cells = []
    for key, _, digits in COLUMNS:
        value = delta[key]
        if isinstance(value, list):
            cells.append(f"{value[0]:+.{digits}f} ± {value[1]:.{digits}f}")
        else:
            cells.append(f"{value:+.{digits}f}")
    lines.append("| Δ on - off (± 95% CI, paired) | " + " | ".join(cells) + " |")
    rel = results["relative_accuracy_change"]
    lines += [
        "",
        f"Accuracy cost of re-ranking: NDCG@10 {rel['ndcg@10']:+.1%}, Recall@10 {rel['recall@10']:+.1%} (relative).",
    ]
    for name, diffs in results["paired_vs_off"].items():
        (nd, nd_ci), (rc, rc_ci) = diffs["ndcg@10"], diffs["recall@10"]
        lines.append(
            f"{name} vs off (paired, 95% CI): NDCG@10 {nd:+.4f} ± {nd_ci:.4f}, Recall@10 {rc:+.4f} ± {rc_ci:.4f}."
        )
    scenarios = [row for row in results["scenarios"] if "scenario" in row]
    if scenarios:
        anchor = next(row["anchor"] for row in results["scenarios"] if "anchor" in row)
        lines += [
            "",
            "#### Scenarios (demo catalog, stores from the train split)",
            "",
            f"Monitor anchor: {anchor}. Complement rate against that monitor.",
            "",
            "| scenario | re-ranking | distinct leaf categories | monitors | keyboards | mice | cables & adapters "
            "| complement rate | top-10 leaf categories |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for row in scenarios:
            rate = "n/a" if row["complement_rate"] is None else f"{row['complement_rate']:.2f}"
            lines.append(
                f"| {row['scenario']} | {row['reranking']} | {row['distinct_categories']} | {row['monitors']} "
                f"| {row['keyboards']} | {row['mice']} | {row['cables']} | {rate} | {', '.join(row['categories'])} |"
            )
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------- main


def run(
    dataset: str, *, max_users: int | None, seed: int, ablations: bool, progress: bool
) -> tuple[dict[str, Any], dict[str, float]]:
    timing: dict[str, float] = {}
    started = time.perf_counter()
    path = write_demo_dataset() if dataset == "demo" else Path(dataset)
    data = load_dataset(path)
    name = "demo" if dataset == "demo" else data.name
    split = leave_one_out(data, max_users=max_users, seed=seed)
    task = make_task(split, "loo")
    res = EvalResources(split=split, seed=seed, progress=progress, cache_dir=DEFAULT_CACHE_DIR)
    catalog = make_catalog(split, res.item_vectors)
    partners = cooccurring_items(
        ([e.product_id for e in events] for events in split.train.values()), window=COOCCURRENCE_WINDOW
    )
    timing["load, split, embed"] = time.perf_counter() - started

    off = RANKERS["pipeline-nodiv"](split, res)
    on = RANKERS["pipeline"](split, res)
    assert isinstance(off, PipelineRanker) and isinstance(on, PipelineRanker)
    rankers: dict[str, PipelineRanker] = {"off": off, "on": on}
    if ablations:
        rankers |= _ablations(on)
    variants: dict[str, dict[str, float]] = {}
    per_user_scores: dict[str, dict[str, np.ndarray]] = {}
    for label, ranker in rankers.items():
        started = time.perf_counter()
        metrics, ranks = evaluate_variant(ranker, split, task, catalog, partners)
        variants[label] = metrics
        per_user_scores[label] = per_user(ranks)
        timing[label] = time.perf_counter() - started
        log.info("%s done in %.0f s", label, timing[label])

    delta: dict[str, Any] = {key: variants["on"][key] - variants["off"][key] for key, _, _ in COLUMNS}
    for key in ("ndcg@10", "recall@10"):
        delta[key] = list(paired_difference(per_user_scores["on"][key], per_user_scores["off"][key]))
    paired_vs_off = {
        _variant_label(label, rankers[label]): {
            key: list(paired_difference(per_user_scores[label][key], per_user_scores["off"][key]))
            for key in ("ndcg@10", "recall@10")
        }
        for label in rankers
        if label not in ("off", "on")
    }
    relative = {
        key: (variants["on"][key] / variants["off"][key] - 1.0) if variants["off"][key] else math.nan
        for key in ("ndcg@10", "recall@10")
    }
    scenarios: list[dict[str, Any]] = []
    if dataset == "demo":
        started = time.perf_counter()
        scenarios = run_scenarios(on, off, split)
        timing["scenarios"] = time.perf_counter() - started

    notes = []
    if dataset == "demo":
        notes.append(
            f"demo data: dragonrec/catalog/demo sessions, seed {DEMO_SEED}, now {DEMO_NOW.isoformat()}, written to "
            f"{DEMO_DIR.relative_to(ROOT)}; anonymous sessions are users; one row per (user, product) at first "
            "touch with its strongest event"
        )
    if ablations:
        notes.append("ablation rows use the `pipeline` ranker's stores with one re-ranking component switched off")
    sampled = len(task.users) < len(split.train)
    settings = {
        "dataset": name,
        "protocol": "leave-one-out by time (test target, input = train + validation item), top 10 of the page",
        "seed": seed,
        "max_users": max_users,
        "sampled": sampled,
        "users_evaluated": len(task.users),
        "users_total": len(split.train),
        "n_items": data.n_items,
        "train_events": sum(len(v) for v in split.train.values()),
        "off_config": _config_text(off.pipeline.config),
        "on_config": _config_text(on.pipeline.config),
        "pipeline_config_on": _jsonable(asdict(on.pipeline.config)),
        "embedder": res.embedder.name if res.embedder else "cached vectors",
        "complement_rate": (
            "share of the top 10 in another leaf category than the user's last input item and co-occurring with it "
            f"within {COOCCURRENCE_WINDOW} events in some training sequence (train split only)"
        ),
        "notes": notes,
    }
    results = {
        "settings": settings,
        "variants": {_variant_label(label, rankers[label]): m for label, m in variants.items()},
        "delta": delta,
        "relative_accuracy_change": relative,
        "paired_vs_off": paired_vs_off,
        "scenarios": scenarios,
    }
    return results, timing


def _config_text(config: PipelineConfig) -> str:
    rerank = config.rerank
    return f"diversity {rerank.diversity}, category cap {rerank.category_cap}, cold cap {config.cold_category_cap}"


def _variant_label(label: str, ranker: PipelineRanker) -> str:
    config = ranker.pipeline.config
    if label == "off":
        return "off (diversity 0, no cap)"
    if label == "on":
        return f"on (diversity {config.rerank.diversity}, cap {config.rerank.category_cap})"
    return label


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset", required=True, help="'demo' or a dataset folder (items.jsonl + events.csv)")
    parser.add_argument("--max-users", type=int, default=None, help="evaluate a seeded random sample of users")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ablations", action="store_true", help="also MMR only and category cap only")
    parser.add_argument("--out", default=None, help="output folder (default var/eval/diversity/<dataset>)")
    parser.add_argument("--progress", action="store_true", help="embedding progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    results, timing = run(
        args.dataset, max_users=args.max_users, seed=args.seed, ablations=args.ablations, progress=args.progress
    )
    report = markdown(results)
    out_dir = Path(args.out) if args.out else DEFAULT_OUT_ROOT / "diversity" / results["settings"]["dataset"]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.md").write_text(report)
    total = time.perf_counter() - started
    timing_line = (
        f"Wall time {total:.0f} s ("
        + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items())
        + f"); {os.cpu_count()} CPUs, BLAS single-threaded."
    )
    (out_dir / "results.json").write_text(json.dumps(results | {"timing_s": timing}, indent=2) + "\n")
    print(report)
    print(timing_line)
    print(f"wrote {out_dir}/results.{{md,json}}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
