"""How trustworthy and how sensitive DragonRec's experiment statistics are, on a real dataset's shoppers.

    .venv/bin/python -m config.embedded run -- .venv/bin/python bench/experiments.py \
        --dataset ../shared/data/amazon_beauty

0. A/A THROUGH THE REAL API (needs PostgreSQL and Redis, which `config.embedded run` starts): one repetition with
   `--api-shoppers` shoppers (default 2,000; 20,000 take 10-20 minutes), each a GET /api/recommendations/ with a
   signed shopper cookie, the impression buffer flushed, clicks POSTed to /api/events/, figures from
   `experiment_results` (the admin's and the results API's service). `--api-shoppers 0` skips it (then no
   database is needed).

Everything below is SIMULATED per-shopper outcomes run through the same statistics code (core.experiments:
assignment, delta method, lift, sample-ratio check, team draft): lists come from the serving pipeline of the
closed-loop simulator (the student trained on the first half of every sequence, exploration off) and from a
trending-only ranker; clicks follow the simulator's position-based click model (relevant = among the shopper's
next real items; a clicked relevant item is bought with p_buy). Shoppers are drawn with replacement from `--base`
dataset users. Two traffic models:
  - plain: one list per shopper, every shopper as likely to click (the simulator's click model as it is);
  - returning: each shopper sees 1 + Poisson(2) lists during the test and has a click activity drawn from
    Gamma(0.5) (mean 1): most shoppers click little, a few a lot, as in real logs.

1. A/A (returning traffic): both arms serve the student's list; over `--repetitions` re-randomisations (a new salt
   each), how often the 95% delta-method interval of the CTR lift covers 0 (~95%) and the sample-ratio check
   passes (~99.9%).
2. Interleaving null (returning traffic): every shopper's a/b labels swapped by a coin of their own, so the rankers
   are equally good on average but each shopper keeps a preference; how often the shopper-level test (the one the
   service runs) and a list-level binomial test reject at alpha = 0.05 (~5% is honest).
3. A/B against interleaving (team draft, every list of every shopper interleaved), for each credit in `--credits`:
   clicks; clicks+purchases (a purchase is one more credit, as the service counts); purchases only. The A/B test
   uses the matching metric per impression (CTR; (clicks + purchases) per impression; conversion rate). For each,
   the number of shoppers at which p < 0.01 in 80% of repetitions: a coarse scan of sizes a quarter-octave apart
   (`--coarse-repetitions` each), then seven sizes around the crossing (`--power-repetitions` each) and a fitted
   probit power curve in sqrt(n); 95% intervals of each crossing and of their ratio from a bootstrap of the power
   counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

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

SIZES = tuple(round(125 * 2 ** (k / 4)) for k in range(37))  # 125 .. 64,000 shoppers, a quarter-octave apart
VARIANTS = 8  # team-draft interleavings drawn per base shopper (its coin flips), sampled from per list
RETURNING_LISTS = 2.0  # returning traffic: lists per shopper = 1 + Poisson(this)
ACTIVITY_SHAPE = 0.5  # returning traffic: Gamma shape of per-shopper click activity (sd 1.4 around a mean of 1)


def click_probabilities(page: list[int], relevant: set[int], s: sim.SimSettings) -> np.ndarray:
    return np.array(
        [
            sim.position_bias(k) * (s.p_click_relevant if pid in relevant else s.p_click_other)
            for k, pid in enumerate(page)
        ]
    )


def buy_probabilities(page: list[int], relevant: set[int], s: sim.SimSettings) -> np.ndarray:
    """P(bought | clicked) per position: the simulator buys a clicked relevant item with p_buy, nothing else."""
    return np.array([s.p_buy if pid in relevant else 0.0 for pid in page])


P_CLICK = 0.05  # through the API, where every list is the same trending one: the top item's click rate


def lists_for(world: sim.World, student: object, n_base: int) -> list[dict[str, Any]]:
    """Per base shopper: the student's list, the trending list, and the shopper's relevant items."""
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
        out.append({"a": a, "b": b, "relevant": set(shopper.future[: s.relevant_window])})
    return out


# What counts as a success, for interleaving's credit and the A/B metric that matches it: (clicks, purchases)
# weights per item. "clicks": a list goes to the team with more clicked picks, A/B on clicks per impression (CTR);
# "clicks+purchases": a purchase is one more credit (what the service counts), A/B on (clicks + purchases) per
# impression; "purchases": only bought picks count, A/B on purchases per impression (conversion rate).
CREDITS = {"clicks": (1, 0), "clicks+purchases": (1, 1), "purchases": (0, 1)}


class Traffic:
    """The base shoppers' click and purchase probabilities as arrays, so a repetition is a few vectorised draws:
    per base shopper the student's (a) and trending's (b) page, and VARIANTS team-draft interleavings of the two."""

    def __init__(self, base: list[dict[str, Any]], n: int, rng: np.random.Generator) -> None:
        s = sim.SimSettings()
        shape = (len(base), n)
        self.pa, self.pb, self.qa, self.qb = (np.zeros(shape) for _ in range(4))  # p: click, q: buy given click
        self.il_p = np.zeros((len(base), VARIANTS, n))
        self.il_q = np.zeros((len(base), VARIANTS, n))
        self.il_b = np.zeros((len(base), VARIANTS, n), dtype=bool)  # the slot is b's pick
        self.il_a = np.zeros((len(base), VARIANTS, n), dtype=bool)
        for j, row in enumerate(base):
            self.pa[j, : len(row["a"])] = click_probabilities(row["a"], row["relevant"], s)
            self.pb[j, : len(row["b"])] = click_probabilities(row["b"], row["relevant"], s)
            self.qa[j, : len(row["a"])] = buy_probabilities(row["a"], row["relevant"], s)
            self.qb[j, : len(row["b"])] = buy_probabilities(row["b"], row["relevant"], s)
            for v in range(VARIANTS):
                mixed = ex.team_draft(row["a"], row["b"], n=n, rng=rng)
                k = len(mixed.items)
                self.il_p[j, v, :k] = click_probabilities(mixed.items, row["relevant"], s)
                self.il_q[j, v, :k] = buy_probabilities(mixed.items, row["relevant"], s)
                self.il_b[j, v, :k] = [t == "b" for t in mixed.teams]
                self.il_a[j, v, :k] = [t == "a" for t in mixed.teams]
        self.page = (self.pa > 0).sum(axis=1)  # items shown per list (a page can be short)

    def shoppers(self, n: int, rng: np.random.Generator, *, returning: bool) -> tuple[np.ndarray, ...]:
        """Base shopper drawn for each of n shoppers, their lists during the test and their click activity."""
        idx = rng.integers(0, len(self.pa), size=n)
        if not returning:
            return idx, np.ones(n, dtype=int), np.ones(n)
        return idx, 1 + rng.poisson(RETURNING_LISTS, size=n), rng.gamma(ACTIVITY_SHAPE, 1 / ACTIVITY_SHAPE, size=n)


def ab_once(
    t: Traffic, n: int, rng: np.random.Generator, *, aa: bool, returning: bool, credit: str = "clicks"
) -> tuple[ex.Lift, bool]:
    """One A/B (or A/A) test of n shoppers: assignment by the salted hash, clicks and purchases per shopper summed
    over their lists, the delta-method lift of the credit's metric per impression and the sample-ratio check."""
    idx, lists, activity = t.shoppers(n, rng, returning=returning)
    salt = str(rng.integers(1 << 62))
    treated = np.array([ex.assign(f"u:{j}", salt=salt, arms=[("control", 0.5), ("treatment", 0.5)]) == "treatment"
                        for j in range(n)])  # fmt: skip
    b_side = (treated & (not aa))[:, None]
    p = np.minimum(1.0, np.where(b_side, t.pb[idx], t.pa[idx]) * activity[:, None])
    clicks = rng.binomial(lists[:, None], p)
    bought = rng.binomial(clicks, np.where(b_side, t.qb[idx], t.qa[idx]))
    w_click, w_buy = CREDITS[credit]
    success = (w_click * clicks + w_buy * bought).sum(axis=1)
    shown = lists * t.page[idx]
    c = ex.ratio_metric(numerators=success[~treated], denominators=shown[~treated])
    tr = ex.ratio_metric(numerators=success[treated], denominators=shown[treated])
    srm = ex.sample_ratio_check(counts=[int((~treated).sum()), int(treated.sum())], shares=[0.5, 0.5])
    return ex.relative_lift(treatment=tr, control=c), srm.ok


def interleave_once(
    t: Traffic, n: int, rng: np.random.Generator, *, returning: bool, credit: str = "clicks", swap: bool = False
) -> tuple[float, float]:
    """n shoppers, every list of theirs team-draft interleaved: the p-values of 'no preference' by shopper (the
    test the service runs) and by list (lists taken as independent). `swap`: a null with real preferences, every
    shopper's a/b labels swapped by a coin of their own, so b wins half on average but each shopper keeps theirs."""
    idx, lists, activity = t.shoppers(n, rng, returning=returning)
    owner = np.repeat(np.arange(n), lists)
    per_list = idx[owner]
    variant = rng.integers(0, VARIANTS, size=len(per_list))
    p = np.minimum(1.0, t.il_p[per_list, variant] * activity[owner][:, None])
    clicked = rng.random(p.shape) < p
    bought = clicked & (rng.random(p.shape) < t.il_q[per_list, variant])
    w_click, w_buy = CREDITS[credit]
    earned = w_click * clicked + w_buy * bought
    credit_a = (earned * t.il_a[per_list, variant]).sum(axis=1)
    credit_b = (earned * t.il_b[per_list, variant]).sum(axis=1)
    if swap:
        flipped = (rng.random(n) < 0.5)[owner]
        credit_a, credit_b = np.where(flipped, credit_b, credit_a), np.where(flipped, credit_a, credit_b)
    win_a, win_b = credit_a > credit_b, credit_b > credit_a
    tie = ~(win_a | win_b)
    by_shopper = ex.interleaving_result(
        wins_a=np.bincount(owner, win_a, n), wins_b=np.bincount(owner, win_b, n), ties=np.bincount(owner, tie, n)
    )
    by_list = ex.interleaving_result(wins_a=win_a, wins_b=win_b, ties=tie)
    return by_shopper.p_value, by_list.p_value


NULL_SHOPPERS = 2000  # per null repetition: ~6,000 lists, enough for the normal approximation, a second for 400
POWER = 0.8
ALPHA = 0.01
FINE_STEPS = range(-4, 3)  # the refined sizes: a half-octave below the coarse crossing to a half-octave above
BOOTSTRAP = 400  # resamples of the power counts for the crossing's interval


def coarse_crossing(test: Any, reps: int) -> int | None:
    """Index in SIZES of the first size at which `test(n)` holds in at least POWER of `reps` repetitions."""
    for k, n in enumerate(SIZES):
        if np.mean([test(n) for _ in range(reps)]) >= POWER:
            return k
    return None


def probit_crossing(sizes: np.ndarray, hits: np.ndarray, reps: int) -> float:
    """The size at which a power curve Phi(alpha + beta sqrt(n)), fitted by maximum likelihood to `hits` of `reps`
    at each size, reaches POWER. The shape is a z-test's: its statistic grows as sqrt(n) times the effect over
    the unit's sd, so power = Phi(sqrt(n) delta / sigma - z); alpha is free to absorb small-sample departures."""
    from scipy import optimize, stats

    root = np.sqrt(sizes)

    def nll(theta: np.ndarray) -> float:
        p = np.clip(stats.norm.cdf(theta[0] + theta[1] * root), 1e-9, 1 - 1e-9)
        return -float(np.sum(hits * np.log(p) + (reps - hits) * np.log(1 - p)))

    start = np.array([-2.3, 3.1 / float(np.sqrt(np.median(sizes)))])  # the z-test's curve through the median size
    fit = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-8})
    alpha, beta = fit.x
    if beta <= 0:
        return float("inf")
    return float(((stats.norm.ppf(POWER) - alpha) / beta) ** 2)


class Crossing:
    """Where a test first reaches POWER: a coarse scan of SIZES, then FINE_STEPS sizes around the crossing with
    `reps` repetitions each and a fitted power curve; its uncertainty from a bootstrap of the power counts
    (binomial at each size), so a ratio of two crossings gets an interval too."""

    def __init__(self, test: Any, coarse_reps: int, reps: int, rng: np.random.Generator) -> None:
        self.reps_each = reps
        self.coarse = coarse_crossing(test, coarse_reps)
        if self.coarse is None:
            self.n, self.draws = float("nan"), np.full(BOOTSTRAP, np.nan)
            return
        ks = sorted({min(max(self.coarse + d, 0), len(SIZES) - 1) for d in FINE_STEPS})
        self.sizes = np.array([SIZES[k] for k in ks], dtype=np.float64)
        self.hits = np.array([sum(bool(test(int(n))) for _ in range(reps)) for n in self.sizes])
        self.n = probit_crossing(self.sizes, self.hits, reps)
        resampled = rng.binomial(reps, self.hits[None, :] / reps, size=(BOOTSTRAP, len(self.sizes)))
        self.draws = np.array([probit_crossing(self.sizes, h, reps) for h in resampled])

    def ci(self) -> tuple[float, float]:
        low, high = np.nanpercentile(self.draws, [2.5, 97.5])
        return float(low), float(high)

    def describe(self) -> str:
        if self.coarse is None:
            return f"not reached by {SIZES[-1]} shoppers"
        lo, hi = self.ci()
        curve = ", ".join(f"{int(n)}:{h / self.reps_each:.2f}" for n, h in zip(self.sizes, self.hits, strict=True))
        return f"{self.n:.0f} shoppers [{lo:.0f}, {hi:.0f}] (power at {curve})"


def api_aa(n_shoppers: int, seed: int) -> dict[str, Any]:
    """One A/A repetition through the real stack, in a throwaway database of the running PostgreSQL and Redis
    (`config.embedded run`): a catalog with trending scores, an A/A experiment (both arms `trending`), and per
    shopper a GET /api/recommendations/ with their signed shopper cookie, the impression buffer flushed, the
    shopper's clicks POSTed to /api/events/ (attributed by the receiver serving uses), and the figures computed by
    `experiment_results`, the service behind the admin page and the results API."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["DRAGONREC_TEST_DB"] = "dragonrec_bench_experiments"
    # Redis databases of its own (cache 12, broker 13): the test suite empties 8 between tests, buffer and all
    os.environ["DRAGONREC_TEST_REDIS_DB"] = "12"
    import uuid

    import django

    django.setup()
    from django.core.signing import get_cookie_signer
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from dragonrec.catalog.factories import CategoryFactory, ProductFactory
    from dragonrec.recommender.services.aggregates import trending_recompute
    from dragonrec.recommender.services.experiments import ArmSpec, experiment_create, experiment_results
    from dragonrec.recommender.services.experiments import experiment_start as start
    from dragonrec.recommender.services.impressions import impressions_buffered, impressions_flush
    from dragonrec.tracking.factories import EventFactory
    from dragonrec.tracking.identity import SALT, cookie_settings

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rng = np.random.default_rng(seed)
        categories = [CategoryFactory(name=f"Aisle {k}") for k in range(5)]
        products = [ProductFactory(category=categories[k % 5]) for k in range(60)]
        for k, product in enumerate(products):  # a popularity curve for the trending ranker
            for _ in range(1 + 30 // (k + 1)):
                EventFactory(product=product, type="view", session_id=f"seed-{k}")
        trending_recompute()
        experiment = experiment_create(
            name="aa-api", scenarios=["home"], arms=[ArmSpec("a", "trending", 0.5), ArmSpec("b", "trending", 0.5)]
        )
        start(experiment=experiment)
        cookie = cookie_settings()["NAME"]
        signer = get_cookie_signer(salt=cookie + SALT)
        activity = rng.gamma(ACTIVITY_SHAPE, 1 / ACTIVITY_SHAPE, size=n_shoppers)
        clicks: list[tuple[str, list[dict[str, object]]]] = []
        began = time.perf_counter()
        for j in range(n_shoppers):
            session_id = f"aa-{j}"
            client = Client()
            client.cookies[cookie] = signer.sign(session_id)
            query: dict[str, str | int] = {"scenario": "home", "n": 10}
            body = client.get("/api/recommendations/", query).json()
            p = activity[j] * P_CLICK * np.array([sim.position_bias(k) for k in range(len(body["items"]))])
            events = [
                {
                    "id": str(uuid.uuid4()),
                    "type": "click",
                    "product_id": item["product"]["id"],
                    "context": {"request_id": body["request_id"], "position": k + 1},
                }
                for k, item in enumerate(body["items"])
                if rng.random() < p[k]
            ]
            if events:
                clicks.append((session_id, events))
        served_s = time.perf_counter() - began
        while impressions_buffered():
            impressions_flush()
        for session_id, events in clicks:
            client = Client()
            client.cookies[cookie] = signer.sign(session_id)
            client.post("/api/events/", {"events": events}, content_type="application/json")
        results = experiment_results(experiment=experiment)
        return {"results": results, "served_s": served_s, "clicking": len(clicks)}
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--shoppers", type=int, default=20000, help="shoppers per A/A repetition")
    # 20,000 through the API take 10-20 min on 2 shared cores (20-40 lists/s in one process); the 20,000-shopper
    # repetitions are simulated below
    parser.add_argument("--api-shoppers", type=int, default=2000, help="shoppers of the A/A through the API; 0: skip")
    parser.add_argument("--base", type=int, default=2000, help="distinct dataset shoppers whose lists are computed")
    parser.add_argument("--repetitions", type=int, default=200, help="simulated A/A repetitions; 0: the API A/A only")
    parser.add_argument(
        "--power-repetitions", type=int, default=200, help="repetitions at each size around a power crossing"
    )
    parser.add_argument("--coarse-repetitions", type=int, default=40, help="repetitions per size of the coarse scan")
    parser.add_argument("--null-repetitions", type=int, default=400, help="interleaving null check; 0: skip")
    parser.add_argument("--credits", default=",".join(CREDITS), help=f"comma-separated, of {', '.join(CREDITS)}")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    started = time.perf_counter()

    if args.api_shoppers:
        api = api_aa(args.api_shoppers, args.seed)
        r = api["results"]
        lift = r["lift"]["b"]["ctr"]
        arms = r["arms"]
        print(
            f"A/A THROUGH THE REAL API (one repetition): {args.api_shoppers} shoppers "
            f"served in {api['served_s']:.0f} s "
            f"({args.api_shoppers / api['served_s']:.0f} lists/s), {api['clicking']} of them clicked; "
            f"arms a/b: {arms['a']['shoppers']}/{arms['b']['shoppers']} shoppers, "
            f"{arms['a']['impressions']}/{arms['b']['impressions']} impressions, "
            f"CTR {arms['a']['ctr']['value']:.4f}/{arms['b']['ctr']['value']:.4f}; "
            f"CTR lift {lift['relative']:+.1%} [{lift['ci'][0]:+.1%}, {lift['ci'][1]:+.1%}] "
            f"({'covers' if lift['ci'][0] <= 0 <= lift['ci'][1] else 'MISSES'} 0), p = {lift['p_value']:.2f}; "
            f"sample-ratio check p = {r['sample_ratio']['p_value']:.3f} "
            f"({'passes' if r['sample_ratio']['ok'] else 'FAILS'})"
        )

    if not args.repetitions:
        return 0
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
    listed = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    traffic = Traffic(lists_for(world, student, args.base), settings.n, rng)
    print(f"SIMULATED below: {dataset.name}, {args.base} shoppers' lists in {time.perf_counter() - listed:.0f} s")

    covered = srm_ok = 0
    for _ in range(args.repetitions):
        lift, ok = ab_once(traffic, args.shoppers, rng, aa=True, returning=True)
        covered += lift.ci[0] <= 0 <= lift.ci[1]
        srm_ok += ok
    reps_aa = args.repetitions
    print(
        f"A/A (simulated, returning traffic), {args.shoppers} shoppers x {reps_aa} repetitions: 95% intervals cover 0 "
        f"in {covered / reps_aa:.1%}; sample-ratio check passes in {srm_ok / reps_aa:.1%}"
    )
    null_reps, null_n = args.null_repetitions, NULL_SHOPPERS
    if null_reps:
        by_shopper = by_list = 0
        for _ in range(null_reps):
            p_shopper, p_list = interleave_once(traffic, null_n, rng, returning=True, swap=True)
            by_shopper += p_shopper < 0.05
            by_list += p_list < 0.05
        print(
            f"interleaving null (returning traffic, each shopper's a/b labels swapped by their own coin), {null_n} "
            f"shoppers x {null_reps} repetitions, alpha = 0.05: the shopper-level test rejects in "
            f"{by_shopper / null_reps:.1%}, the list-level one in {by_list / null_reps:.1%}"
        )
    for returning in (False, True):
        name = "returning" if returning else "plain"
        lists = 1 + RETURNING_LISTS if returning else 1.0  # lists per shopper, on average
        for credit in args.credits.split(","):
            lift, _ = ab_once(traffic, 20000, rng, aa=False, returning=returning, credit=credit)
            ab = Crossing(
                lambda n, r=returning, c=credit: (
                    ab_once(traffic, n, rng, aa=False, returning=r, credit=c)[0].p_value < ALPHA
                ),
                args.coarse_repetitions,
                args.power_repetitions,
                rng,
            )
            il = Crossing(
                lambda n, r=returning, c=credit: interleave_once(traffic, n, rng, returning=r, credit=c)[0] < ALPHA,
                args.coarse_repetitions,
                args.power_repetitions,
                rng,
            )
            print(
                f"{name} traffic, credit {credit}: A/B trending vs student at 20,000 shoppers: "
                f"lift {lift.relative:+.1%} [{lift.ci[0]:+.1%}, {lift.ci[1]:+.1%}], p = {lift.p_value:.2g}"
            )
            impressions = settings.n * lists
            print(f"  A/B, p < {ALPHA} with power {POWER:.0%}: {ab.describe()}, ~{ab.n * impressions:.0f} impressions")
            print(f"  interleaving, by shopper: {il.describe()}, ~{il.n * impressions:.0f} impressions")
            ratios = ab.draws / il.draws
            lo, hi = np.nanpercentile(ratios, [2.5, 97.5]) if np.isfinite(ratios).any() else (np.nan, np.nan)
            print(f"  interleaving needs {ab.n / il.n:.2f}x [{lo:.2f}, {hi:.2f}] fewer impressions")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
