"""How trustworthy and how sensitive DragonRec's experiment statistics are, on a real dataset's shoppers.

    python bench/experiments.py --dataset ../shared/data/amazon_beauty --shoppers 20000 --repetitions 200

Lists come from the serving pipeline of the closed-loop simulator (the student trained on the first half of every
sequence, `served` settings, exploration off) and from a trending-only ranker; a shopper's clicks follow the
simulator's position-based click model (relevant = among the shopper's next real items), so shoppers differ in how
much they click, as real ones do. Shoppers are drawn with replacement from the dataset's users to the asked size.

1. A/A: both arms serve the student's list; over `repetitions` re-randomisations (a new salt each), how often the
   95% delta-method interval of the CTR lift covers 0 (should be ~95%), and how often the sample-ratio check
   passes (should be ~99.9%).
2. A/B: one arm serves trending only; the smallest number of shoppers at which the lift is detected with p < 0.01
   in at least 80% of repetitions.
3. Interleaving (team draft) of the same two rankers: the smallest number of shoppers (one interleaved list each)
   at which the win rate is detected with p < 0.01 in at least 80% of repetitions; the ratio of impressions needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from dragonrec.recommender.core import experiments as ex  # noqa: E402
from dragonrec.recommender.core.exploration import ExplorationConfig  # noqa: E402
from dragonrec.recommender.core.rankers import TrendingRanker  # noqa: E402
from dragonrec.recommender.core.types import Context  # noqa: E402
from dragonrec.recommender.evaluation import simulator as sim  # noqa: E402

SIZES = (250, 500, 1000, 2000, 4000, 8000, 16000, 32000)


def click_probabilities(page: list[int], relevant: set[int], s: sim.SimSettings) -> np.ndarray:
    return np.array(
        [
            sim.position_bias(k) * (s.p_click_relevant if pid in relevant else s.p_click_other)
            for k, pid in enumerate(page)
        ]
    )


def lists_for(world: sim.World, student: object, n_base: int) -> list[dict[str, object]]:
    """Per base shopper: the student's list, the trending list, and their click probabilities."""
    s = world.settings
    pipeline = sim.build_pipeline(world, student, with_new=True)
    trending = sim.build_pipeline(world, student, with_new=True)
    trending.ranker = TrendingRanker(products=trending.products)
    off = ExplorationConfig(enabled=False)
    out = []
    for shopper in world.shoppers[:n_base]:
        ctx = Context(
            scenario="home",
            history=shopper.history[-50:],
            n=s.n,
            exclude_ids={e.product_id for e in shopper.history},
            user_key=shopper.key,
        )
        a = [i.product_id for i in pipeline.recommend_explored(ctx, exploration=off, seed=0).items]
        b = [i.product_id for i in trending.recommend_explored(ctx, exploration=off, seed=0).items]
        relevant = set(shopper.future[: s.relevant_window])
        pa, pb = click_probabilities(a, relevant, s), click_probabilities(b, relevant, s)
        out.append({"a": a, "b": b, "pa": pa, "pb": pb, "relevant": relevant})
    return out


def ab_once(base: list[dict[str, object]], n: int, rng: np.random.Generator, *, aa: bool) -> tuple[ex.Lift, bool]:
    idx = rng.integers(0, len(base), size=n)
    salt = str(rng.integers(1 << 62))
    arms = [ex.assign(f"u:{j}", salt=salt, arms=[("control", 0.5), ("treatment", 0.5)]) for j in range(n)]
    clicks = {"control": [], "treatment": []}
    shown = {"control": [], "treatment": []}
    for j, arm in zip(idx, arms, strict=True):
        p = base[j]["pa"] if (aa or arm == "control") else base[j]["pb"]
        clicks[arm].append(float((rng.random(len(p)) < p).sum()))
        shown[arm].append(float(len(p)))
    c = ex.ratio_metric(numerators=clicks["control"], denominators=shown["control"])
    t = ex.ratio_metric(numerators=clicks["treatment"], denominators=shown["treatment"])
    srm = ex.sample_ratio_check(counts=[len(clicks["control"]), len(clicks["treatment"])], shares=[0.5, 0.5])
    return ex.relative_lift(treatment=t, control=c), srm.ok


def interleave_once(base: list[dict[str, object]], n: int, rng: np.random.Generator) -> float:
    outcomes = []
    s = sim.SimSettings()
    for j in rng.integers(0, len(base), size=n):
        row = base[j]
        mixed = ex.team_draft(row["a"], row["b"], n=s.n, rng=rng)
        p = click_probabilities(mixed.items, row["relevant"], s)
        outcomes.append(ex.interleaving_outcome(mixed.teams, list(rng.random(len(p)) < p)))
    return ex.interleaving_result(outcomes).p_value


def smallest(test: object, reps: int) -> int | None:
    for n in SIZES:
        if np.mean([test(n) for _ in range(reps)]) >= 0.8:
            return n
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--shoppers", type=int, default=20000, help="shoppers per A/A repetition")
    parser.add_argument("--base", type=int, default=3000, help="distinct dataset shoppers whose lists are computed")
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--power-repetitions", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    settings = sim.SimSettings(users=args.base, seed=args.seed)
    from dragonrec.recommender.core.embedder import SentenceTransformerEmbedder, cached_encode
    from dragonrec.recommender.evaluation.dataset import load_dataset
    from dragonrec.recommender.evaluation.harness import DEFAULT_CACHE_DIR

    dataset = load_dataset(args.dataset)
    vectors = cached_encode(SentenceTransformerEmbedder(), dataset.texts, DEFAULT_CACHE_DIR)
    world = sim.World(dataset, vectors, settings)
    cache = DEFAULT_CACHE_DIR.parent / "simulator"
    cache.mkdir(parents=True, exist_ok=True)
    student = sim.train_initial_student(world, cache, progress=False)
    base = lists_for(world, student, args.base)
    rng = np.random.default_rng(args.seed)
    print(f"{dataset.name}: {len(base)} shoppers' lists in {time.perf_counter() - started:.0f} s")

    covered = srm_ok = 0
    for _ in range(args.repetitions):
        lift, ok = ab_once(base, args.shoppers, rng, aa=True)
        covered += lift.ci[0] <= 0 <= lift.ci[1]
        srm_ok += ok
    reps_aa = args.repetitions
    print(
        f"A/A, {args.shoppers} shoppers x {reps_aa} repetitions: 95% intervals cover 0 in {covered / reps_aa:.1%}; "
        f"sample-ratio check passes in {srm_ok / reps_aa:.1%}"
    )

    lift, _ = ab_once(base, 20000, rng, aa=False)
    print(
        f"A/B trending vs student at 20,000 shoppers: CTR lift {lift.relative:+.1%} "
        f"[{lift.ci[0]:+.1%}, {lift.ci[1]:+.1%}], p = {lift.p_value:.2g}"
    )
    reps = args.power_repetitions
    n_ab = smallest(lambda n: ab_once(base, n, rng, aa=False)[0].p_value < 0.01, reps)
    n_il = smallest(lambda n: interleave_once(base, n, rng) < 0.01, reps)
    lists = settings.n
    print(f"A/B: p < 0.01 in >= 80% of {reps} repetitions from {n_ab} shoppers ({(n_ab or 0) * lists} impressions)")
    print(f"Interleaving: same from {n_il} shoppers ({(n_il or 0) * lists} impressions)")
    if n_ab and n_il:
        print(f"Interleaving needs {n_ab / n_il:.1f}x fewer impressions (sizes tried: {', '.join(map(str, SIZES))})")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
