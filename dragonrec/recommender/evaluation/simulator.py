"""A closed-loop simulator on real sequences: does learning from what shoppers do with our lists help?

    >>> results = simulate(dataset_path="../shared/data/amazon_beauty", settings=SimSettings(rounds=10),
    ...                    policies=["frozen", "online", "online-explore"], out_dir=Path("var/sim/beauty"))
    >>> results["policies"]["online"]["rounds"][-1]["click_rate"]

The shoppers are real users of the dataset. The student is trained on the first part of every sequence; the rest
of each sequence is what that shopper will want, in order. Each round, every shopper with something left to want
asks each policy for a home list through the serving Pipeline and student code (the same `recommend_explored`
serving calls, with the same exploration step); the shopper examines position k with probability
bias(k) = 1 / log2(k + 2) and clicks an examined item with `p_click_relevant` when it is among their next
`relevant_window` real items, else with `p_click_other`; a clicked relevant item is bought with `p_buy`. Clicks
and purchases join the shopper's history (they are events) and the policy's reward log, as in production. Then the
shopper moves on to their next real item whether or not we showed it (it joins the history as a purchase).

Between rounds the policies update as the Celery jobs would: `frozen` never; `online` and `online-explore` run the
hourly update (`ml.online.online_update`) on the round's events and rewards, warm-starting from their current
model, with half of each batch replayed from the initial training sequences; `online-explore` also explores, and
`online-explore-naive` / `online-explore-listwise` learn from the rewards in another form (ml/online.py). The
summary compares every policy with frozen and the updating ones with each other, on the same shoppers. Every
policy lives in its own copy of the world (histories diverge with what it showed), with common random numbers: the
same shopper at the same round and position draws the same uniforms.

The initial student is trained as the nightly retrain trains (early stopping on validation NDCG@10), so what the
updates add is learning from the simulated traffic, not training the initial model further.

New inventory: `new_item_share` of the items, chosen at random with all their events, are held out of the initial
catalog and training data and arrive at the start of round `new_items_round`.

Off-policy check: from the exploring policy's log of the last round (`off_policy_visits` visits of every shopper),
estimate the click rate of the greedy policy (the same model without exploration) with IPS, SNIPS and DR; then
that greedy policy is run on the same world state to get its true click rate, and each estimator's relative error
is reported.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dragonrec.recommender.core import offpolicy
from dragonrec.recommender.core.experiments import ratio_metric
from dragonrec.recommender.core.exploration import ExplorationConfig
from dragonrec.recommender.core.memory import InMemoryProductStore, InMemoryVectorIndex
from dragonrec.recommender.core.pipeline import PIPELINE_DEFAULTS, Pipeline, pipeline_config_from_settings
from dragonrec.recommender.core.pipeline import build_pipeline as core_build_pipeline
from dragonrec.recommender.core.types import Context, HistoryEvent, Product
from dragonrec.recommender.evaluation.dataset import Dataset, load_dataset

log = logging.getLogger(__name__)

# online: hourly updates, no exploration (every propensity is 1, so IPS and naive weights coincide);
# online-explore: with exploration and IPS-weighted rewards; online-explore-naive: exploration, unweighted rewards;
# online-explore-listwise: exploration, IPS-weighted clicks against the rest of their page (ml/online.py's forms).
POLICIES = ("frozen", "online", "online-explore", "online-explore-naive", "online-explore-listwise")


FORM_OF = {"naive": "naive", "listwise": "listwise"}  # a policy name's last word -> its update's reward form


@dataclass(frozen=True)
class SimSettings:
    rounds: int = 10
    users: int = 1500  # shoppers simulated (a seeded sample of the dataset's users with >= min_events)
    min_events: int = 6
    n: int = 10
    seed: int = 0
    history_fraction: float = 0.5  # the initial training part of each sequence
    relevant_window: int = 3
    p_click_relevant: float = 0.7
    p_click_other: float = 0.01
    p_buy: float = 0.5
    # a shopper who did not find their next item through us finds it elsewhere this round with this probability
    # (and moves on to the next); otherwise they keep wanting it, as a shopper comparing for a few days does
    p_advance: float = 0.5
    new_item_share: float = 0.1
    new_items_round: int = 3
    exploration: dict[str, Any] = field(
        default_factory=lambda: {"enabled": True, "deterministic_slots": 3, "pool": 10, "temperature": 0.05}
    )
    # the off-policy check's log: this many independent visits of every shopper to the exploring policy in the
    # last round's state (a shop estimates from hours of logs; one visit each leaves ~100 clicks, and a relative
    # error dominated by the click noise of the log rather than by the estimator)
    off_policy_visits: int = 4
    update_steps: int = 40
    update_lr: float = 3e-4
    # share of each update's next-item batch replayed from the initial training sequences (ml/online.py: without
    # it the updates fit the simulated shoppers and forget everyone else)
    update_replay: float = 0.5
    # the initial student's training: None = as the nightly retrain trains (early stopping on validation NDCG,
    # StudentConfig's defaults), else exactly this many epochs. Never a time budget: that made the initial model,
    # and every figure after it, depend on the machine's load. Cached per dataset, seed and this setting.
    train_epochs: int | None = None


@dataclass
class Shopper:
    key: str
    history: list[HistoryEvent]
    future: list[int]

    @property
    def active(self) -> bool:
        return bool(self.future)


@dataclass
class PolicyState:
    name: str
    student: Any
    shoppers: list[Shopper]
    explore: bool
    form: str | None  # None = never updates
    rounds: list[dict[str, Any]] = field(default_factory=list)
    last_log: list[dict[str, Any]] = field(default_factory=list)
    # round -> shopper -> (clicks, shown)
    per_shopper: dict[int, dict[int, tuple[int, int]]] = field(default_factory=dict)
    exploration: dict[str, Any] | None = None  # overrides the settings' exploration (the off-policy target)


def position_bias(k: int) -> float:
    """P(a shopper examines 0-based position k): DCG's discount, the usual position-based click model."""
    return 1.0 / math.log2(k + 2)


def _uniforms(seed: int, round_no: int, shopper: int, size: int, replicate: int = 0) -> np.ndarray:
    """Common random numbers: the same draws for a shopper at a round whatever the policy (`replicate` > 0: another
    independent visit of the same shopper in the same state, for the off-policy check's log)."""
    tag = f"{seed}:{round_no}:{shopper}" + (f":{replicate}" if replicate else "")
    digest = hashlib.blake2b(tag.encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "big")).random(size)


class World:
    """The dataset, its text vectors, the held-out new items and the initial shoppers."""

    def __init__(self, dataset: Dataset, vectors: np.ndarray, settings: SimSettings) -> None:
        self.dataset = dataset
        self.vectors = vectors
        self.settings = settings
        rng = np.random.default_rng(settings.seed)
        n_items = dataset.n_items
        self.new_items = set(rng.choice(n_items, size=int(n_items * settings.new_item_share), replace=False).tolist())
        users = sorted(u for u, seq in dataset.sequences.items() if len(seq) >= settings.min_events)
        chosen = sorted(rng.choice(len(users), size=min(settings.users, len(users)), replace=False).tolist())
        self.training: list[list[HistoryEvent]] = []
        for user in users:
            seq = dataset.sequences[user]
            cut = self._cut(seq)
            self.training.append([e for e in seq[:cut] if e.product_id not in self.new_items])
        # the initial student's validation pairs: a seeded sample of all the users (not of the simulated ones), so
        # the cached student does not depend on how many shoppers a run simulates
        self.valid: list[tuple[list[HistoryEvent], int]] = []
        for i in np.random.default_rng(settings.seed + 1).permutation(len(users))[:2000].tolist():
            seq = dataset.sequences[users[i]]
            cut = self._cut(seq)
            if seq[cut].product_id not in self.new_items:
                self.valid.append(([e for e in seq[:cut] if e.product_id not in self.new_items], seq[cut].product_id))
        self.shoppers: list[Shopper] = []
        for i in chosen:
            seq = dataset.sequences[users[i]]
            cut = self._cut(seq)
            self.shoppers.append(
                Shopper(
                    key=users[i],
                    history=[e for e in seq[:cut] if e.product_id not in self.new_items],
                    future=[e.product_id for e in seq[cut:]],
                )
            )

    def _cut(self, seq: Sequence[HistoryEvent]) -> int:
        return max(2, int(len(seq) * self.settings.history_fraction))

    def products(self, *, with_new: bool) -> list[Product]:
        return [
            p if with_new or p.id not in self.new_items else replace(p, is_active=False) for p in self.dataset.products
        ]


def build_pipeline(world: World, student: Any, *, with_new: bool) -> Pipeline:
    """What serves, on in-memory stores: `core.pipeline.build_pipeline` (the function serving and the harness's
    `served` ranker call) with the RECOMMENDER pipeline defaults and the policy's student as ranker and source."""
    from dragonrec.recommender.ml.ranker import StudentRanker

    products = world.products(with_new=with_new)
    store = InMemoryProductStore.from_sessions(products, world.training)
    index = InMemoryVectorIndex(range(len(products)), world.vectors, products=products)
    return core_build_pipeline(
        products=store,
        index=index,
        embedder=None,
        ranker=StudentRanker(student, index=index),
        config=pipeline_config_from_settings(PIPELINE_DEFAULTS),
        sources=PIPELINE_DEFAULTS["CANDIDATE_SOURCES"],
    )


def train_initial_student(world: World, cache_dir: Path, *, progress: bool) -> Any:
    """The student trained on the first part of every sequence (new items held out), cached on disk: the
    simulation's rounds and policies are what is being compared, not the training run."""
    from dragonrec.recommender.ml.model import StudentConfig
    from dragonrec.recommender.ml.student import Student

    s = world.settings
    training = f"{s.train_epochs}ep" if s.train_epochs else "early-stop"
    key = hashlib.sha256(
        f"{world.dataset.name}:{s.seed}:{s.history_fraction}:{s.new_item_share}:{training}:new-held-out".encode()
    ).hexdigest()[:16]
    path = cache_dir / f"student-{world.dataset.name}-{key}"
    if (path / "student.json").exists():
        return Student.load(path)
    # the new inventory is not in the initial model at all (as products created after a training run): it reaches
    # a student through `Student.add_items` (the hourly update) or, for a frozen one, the ranker's text path
    known = [p.id for p in world.dataset.products if p.id not in world.new_items]
    config = StudentConfig(time_budget_s=None, text_dim=int(world.vectors.shape[1]))
    if s.train_epochs:
        config = replace(config, max_epochs=s.train_epochs, min_epochs=s.train_epochs)
    student = Student.fit(
        sequences=world.training,
        product_ids=known,
        text_vectors=world.vectors[known],
        config=config,
        valid=world.valid,
        seed=s.seed,
        version=f"sim-{world.dataset.name}",
        progress=progress,
    )
    student.save(path)
    return Student.load(path)  # every run, first or cached, starts from the very same weights


def _serve(
    pipeline: Pipeline, shopper: Shopper, *, n: int, exploration: ExplorationConfig, seed: int
) -> list[tuple[int, float, float]]:
    ctx = Context(
        scenario="home",
        history=shopper.history[-50:],
        n=n,
        exclude_ids={e.product_id for e in shopper.history},
        user_key=shopper.key,
    )
    # the serving policy (core.policy), built as serving builds it: the same sources, filters and re-rank
    policy = pipeline.policy(ctx)
    result = pipeline.recommend_explored(ctx, exploration=exploration, seed=seed, policy=policy)
    return [(item.product_id, item.score, item.propensity) for item in result.items]


def run_round(
    state: PolicyState, world: World, round_no: int, *, with_new: bool, apply: bool = True, replicate: int = 0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One round for one policy: serve, click, buy, move on. Returns the round's metrics and its reward-log rows
    (kept on the state for the update when applied). `apply=False` measures without changing the world."""
    s = world.settings
    pipeline = build_pipeline(world, state.student, with_new=with_new)
    exploration = ExplorationConfig.from_dict(
        state.exploration or (s.exploration if state.explore else {"enabled": False})
    )
    clicks_u, shown_u, buys_u, ndcg = [], [], [], []
    expected_clicks = 0.0
    new_clicks = new_shown = old_clicks = old_shown = 0
    shown_items: set[int] = set()
    rows: list[dict[str, Any]] = []
    # one batched forward pass for the round's histories instead of one per request (same vectors): serving each
    # shopper through the pipeline is then a lookup plus the pipeline's own work
    state.student.remember_user_vectors([sh.history[-50:] for sh in state.shoppers if sh.active])
    for u, shopper in enumerate(state.shoppers):
        if not shopper.active:
            continue
        tag = f"{s.seed}:{round_no}:{u}" + (f":{replicate}" if replicate else "")
        seed = int.from_bytes(hashlib.blake2b(tag.encode(), digest_size=8).digest(), "big")
        page = _serve(pipeline, shopper, n=s.n, exploration=exploration, seed=seed)
        relevant = set(shopper.future[: s.relevant_window])
        draws = _uniforms(s.seed, round_no, u, 2 * len(page) + 1, replicate)
        clicked: list[int] = []
        bought: list[int] = []
        for k, (pid, _score, propensity) in enumerate(page):
            p = position_bias(k) * (s.p_click_relevant if pid in relevant else s.p_click_other)
            expected_clicks += p
            click = draws[2 * k] < p
            buy = bool(click and pid in relevant and draws[2 * k + 1] < s.p_buy)
            rows.append(
                {
                    "list": f"{round_no}:{u}:{replicate}",
                    "shopper": u,
                    "position": k,
                    "item": pid,
                    "propensity": propensity,
                    "click": float(click),
                    "buy": buy,
                    "history": list(shopper.history[-50:]),
                }
            )
            if click:
                clicked.append(pid)
            if buy:
                bought.append(pid)
            if pid in world.new_items:
                new_shown += 1
                new_clicks += int(click)
            else:
                old_shown += 1
                old_clicks += int(click)
            shown_items.add(pid)
        target = shopper.future[0]
        ranks = [k for k, (pid, _, _) in enumerate(page) if pid == target]
        ndcg.append(1.0 / math.log2(ranks[0] + 2) if ranks else 0.0)
        clicks_u.append(len(clicked))
        buys_u.append(len(bought))
        shown_u.append(len(page))
        if apply:
            state.per_shopper.setdefault(round_no, {})[u] = (len(clicked), len(page))
        if apply:
            t = shopper.history[-1].timestamp + 1 if shopper.history else 0.0
            for pid in clicked:
                shopper.history.append(HistoryEvent(product_id=pid, event_type="click", timestamp=t))
            for pid in bought:
                shopper.history.append(HistoryEvent(product_id=pid, event_type="purchase", timestamp=t))
            consumed = set(bought) | (set(clicked) & relevant)
            shopper.future = [pid for pid in shopper.future if pid not in consumed]
            found_elsewhere = draws[-1] < s.p_advance if len(draws) else True
            if shopper.future and shopper.future[0] == target and found_elsewhere:
                shopper.history.append(HistoryEvent(product_id=target, event_type="rating", timestamp=t))
                shopper.future.pop(0)
    state.student.forget_user_vectors()
    click = ratio_metric(numerators=clicks_u, denominators=shown_u)
    visible = sum(1 for p in world.products(with_new=with_new) if p.is_active)
    metrics = {
        "round": round_no,
        "shoppers": len(shown_u),
        "click_rate": click.value,
        "click_rate_ci": list(click.ci),
        "purchase_rate": float(np.sum(buys_u) / max(np.sum(shown_u), 1)),
        "ndcg@10": float(np.mean(ndcg)) if ndcg else 0.0,
        "coverage": len(shown_items) / max(visible, 1),
        "new_item_click_rate": (new_clicks / new_shown) if new_shown else None,
        "new_item_impressions": new_shown,
        "old_item_click_rate": (old_clicks / old_shown) if old_shown else None,
        "expected_click_rate": expected_clicks / max(float(np.sum(shown_u)), 1.0),
    }
    if apply:
        state.last_log = rows
    return metrics, rows


def update_policy(state: PolicyState, world: World, round_no: int, *, with_new: bool) -> float:
    """The hourly job between rounds: fine-tune on the round's events and rewards. Returns seconds spent."""
    from dragonrec.recommender.ml.online import OnlineUpdate, RewardExample, online_update

    if state.form is None:
        return 0.0
    s = world.settings
    started = time.perf_counter()
    sequences = [sh.history[-50:] for sh in state.shoppers]
    pages: dict[str, list[int]] = {}
    for row in state.last_log:  # rows come in position order
        pages.setdefault(row["list"], []).append(row["item"])
    rewards = [
        RewardExample(
            history=row["history"],
            product_id=row["item"],
            propensity=row["propensity"],
            purchased=row["buy"],
            shown=tuple(pages[row["list"]]),
        )
        for row in state.last_log
        if row["click"]
    ]
    new_ids = sorted(world.new_items) if with_new else []
    new_items = (new_ids, world.vectors[new_ids]) if new_ids else None
    state.student = online_update(
        state.student,
        sequences=sequences,
        rewards=rewards,
        replay=world.training,
        new_items=new_items,
        # bounded by steps only: a time bound would make the figures depend on the machine's load
        update=OnlineUpdate(
            form=state.form,
            steps=s.update_steps,
            lr=s.update_lr,
            replay_share=s.update_replay,
            time_budget_s=math.inf,
        ),
        seed=s.seed * 1000 + round_no,
    )
    return time.perf_counter() - started


def off_policy_check(state: PolicyState, world: World, round_no: int, *, with_new: bool) -> dict[str, Any] | None:
    """Serve this round with the exploring policy (without changing the world) and, from that log alone, estimate
    the click rate of the greedy policy (the same model without exploration) with IPS, SNIPS and DR. The truth is
    the greedy policy's expected click rate on the same shoppers in the same state (click probabilities summed,
    so the truth carries no sampling noise of its own)."""
    log_rows = [
        row
        for visit in range(world.settings.off_policy_visits)
        for row in run_round(state, world, round_no, with_new=with_new, apply=False, replicate=visit)[1]
    ]
    if not log_rows:
        return None  # every shopper has found everything they wanted
    # The target: the same model's greedy list over the same ranked page the explorer draws from (a temperature
    # near zero makes the draw the ranking itself), so every item it shows had a chance under the explorer.
    greedy_exploration = {**world.settings.exploration, "temperature": 1e-6}
    greedy = PolicyState(
        "greedy", state.student, state.shoppers, explore=True, form=None, exploration=greedy_exploration
    )
    truth_metrics, greedy_rows = run_round(greedy, world, round_no, with_new=with_new, apply=False)
    target_at = {(r["shopper"], r["position"]): r["item"] for r in greedy_rows}
    reward = np.array([r["click"] for r in log_rows])
    pscore = np.array([r["propensity"] for r in log_rows])
    target = np.array([1.0 if target_at.get((r["shopper"], r["position"])) == r["item"] else 0.0 for r in log_rows])
    lists = np.array([r["list"] for r in log_rows])
    positions = [r["position"] for r in log_rows]
    model = offpolicy.position_ctr_model(reward=reward, positions=positions, items=[r["item"] for r in log_rows])
    position_rate = {k: float(reward[np.array(positions) == k].mean()) for k in set(positions)}

    def predicted(item: int, k: int) -> float:
        return model.get((item, k), position_rate.get(k, 0.0))

    args: dict[str, Any] = {"reward": reward, "pscore": pscore, "target_pscore": target, "lists": lists}
    estimates = {
        "ips": offpolicy.ips(**args),
        "clipped_ips": offpolicy.ips(**args, clip=10.0),
        "snips": offpolicy.snips(**args),
        "dr": offpolicy.dr(
            **args,
            predicted_logged=np.array([predicted(r["item"], r["position"]) for r in log_rows]),
            predicted_target=np.array(
                [predicted(target_at.get((r["shopper"], r["position"]), -1), r["position"]) for r in log_rows]
            ),
        ),
    }
    truth = truth_metrics["expected_click_rate"]
    return {
        "target_policy": "greedy (the exploring policy's model and ranked page, no sampling)",
        "round": round_no,
        "true_click_rate": truth,
        "logging_click_rate": float(reward.mean()) if len(reward) else 0.0,
        "estimates": {k: e.value for k, e in estimates.items()},
        "intervals": {k: list(e.ci) for k, e in estimates.items()},
        "relative_error": {k: (e.value - truth) / truth if truth else None for k, e in estimates.items()},
    }


def simulate(
    *,
    dataset_path: str | Path,
    settings: SimSettings,
    policies: Sequence[str],
    out_dir: Path | None = None,
    cache_dir: Path | None = None,
    embedder: Any | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the policies for `settings.rounds` rounds; returns (and writes to `out_dir`) results.json's content."""
    from dragonrec.recommender.core.embedder import SentenceTransformerEmbedder, cached_encode
    from dragonrec.recommender.evaluation.harness import DEFAULT_CACHE_DIR

    unknown = set(policies) - set(POLICIES)
    if unknown:
        raise ValueError(f"unknown policies {sorted(unknown)}; expected some of {POLICIES}")
    dataset = load_dataset(dataset_path)
    cache = cache_dir or DEFAULT_CACHE_DIR.parent / "simulator"
    vectors = cached_encode(
        embedder or SentenceTransformerEmbedder(), dataset.texts, cache_dir or DEFAULT_CACHE_DIR, progress=progress
    )
    world = World(dataset, vectors, settings)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    student = train_initial_student(world, cache, progress=progress)
    train_s = time.perf_counter() - t0
    states = [
        PolicyState(
            name,
            copy.deepcopy(student),
            copy.deepcopy(world.shoppers),
            explore=name.startswith("online-explore"),
            form=None if name == "frozen" else FORM_OF.get(name.rsplit("-", 1)[-1], "ips"),
        )
        for name in policies
    ]
    update_seconds: dict[str, list[float]] = {st.name: [] for st in states}
    off_policy: dict[str, Any] | None = None
    for round_no in range(1, settings.rounds + 1):
        with_new = round_no >= settings.new_items_round
        for state in states:
            if state.name == "online-explore" and round_no == settings.rounds:
                off_policy = off_policy_check(state, world, round_no, with_new=with_new)
            metrics, _ = run_round(state, world, round_no, with_new=with_new)
            state.rounds.append(metrics)
            log.info("round %d %s: click rate %.4f", round_no, state.name, metrics["click_rate"])
            if round_no < settings.rounds:
                update_seconds[state.name].append(update_policy(state, world, round_no, with_new=with_new))
    results: dict[str, Any] = {
        "settings": {**asdict(settings), "dataset": dataset.name, "policies": list(policies)},
        "policies": {st.name: {"rounds": st.rounds} for st in states},
        "summary": _summary(states, settings),
        "timing": {"initial_training_s": train_s, "update_s": update_seconds},
        "off_policy": off_policy,
    }
    if out_dir is not None:
        write_results(results, out_dir)
    return results


def _summary(states: list[PolicyState], settings: SimSettings) -> dict[str, Any]:
    """Click rate over the second half of the rounds per policy and, against frozen, the relative lift with a 95%
    paired bootstrap interval over shoppers (the same shoppers met every policy with the same random numbers)."""
    late = range(settings.rounds // 2 + 1, settings.rounds + 1)
    frozen = next((st for st in states if st.name == "frozen"), None)
    rng = np.random.default_rng(settings.seed)
    out: dict[str, Any] = {}

    def sums(st: PolicyState) -> tuple[np.ndarray, np.ndarray]:
        n = len(st.shoppers)
        clicks, shown = np.zeros(n), np.zeros(n)
        for r in late:
            for u, (c, k) in st.per_shopper.get(r, {}).items():
                clicks[u] += c
                shown[u] += k
        return clicks, shown

    def lift(new: tuple[np.ndarray, np.ndarray], old: tuple[np.ndarray, np.ndarray]) -> dict[str, Any] | None:
        (clicks, shown), (oc, os_) = new, old
        if oc.sum() == 0 or shown.sum() == 0:
            return None
        boots = []
        for _ in range(1000):
            i = rng.integers(0, len(clicks), len(clicks))
            if oc[i].sum() > 0 and shown[i].sum() > 0:
                boots.append((clicks[i].sum() / shown[i].sum()) / (oc[i].sum() / os_[i].sum()) - 1)
        return {
            "relative": float((clicks.sum() / shown.sum()) / (oc.sum() / os_.sum()) - 1),
            "relative_ci": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))],
        }

    late_sums = {st.name: sums(st) for st in states}
    # the updating policies against each other (e.g. one reward form against another), on the same shoppers: each
    # against the ones listed before it
    updating = [st.name for st in states if st.form is not None]
    for st in states:
        clicks, shown = late_sums[st.name]
        entry: dict[str, Any] = {"late_click_rate": float(clicks.sum() / max(shown.sum(), 1))}
        if frozen is not None and st is not frozen and (vs := lift(late_sums[st.name], late_sums[frozen.name])):
            entry["vs_frozen"] = vs
        if st.form is not None:
            entry["vs"] = {
                other: vs
                for other in updating[: updating.index(st.name)]
                if (vs := lift(late_sums[st.name], late_sums[other])) is not None
            }
        new_rates = [r["new_item_click_rate"] for r in st.rounds if r["new_item_click_rate"] is not None]
        old_rates = [r.get("old_item_click_rate") for r in st.rounds if r.get("old_item_click_rate") is not None]
        entry["new_item_click_rate_last"] = new_rates[-1] if new_rates else None
        entry["old_item_click_rate_last"] = old_rates[-1] if old_rates else None
        out[st.name] = entry
    return out


def write_results(results: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (out_dir / "results.md").write_text(markdown(results))
    try:
        plot(results, out_dir / "results.png")
    except Exception:  # a missing matplotlib must not lose the figures
        log.exception("could not draw results.png")


def markdown(results: dict[str, Any]) -> str:
    s = results["settings"]
    names = list(results["policies"])
    lines = [
        f"# Closed-loop simulation: {s['dataset']}",
        "",
        f"{s['users']} shoppers, {s['rounds']} rounds, lists of {s['n']}, seed {s['seed']}; new items "
        f"({s['new_item_share']:.0%}) arrive at round {s['new_items_round']}.",
        "",
        "| round | "
        + " | ".join(f"{n} CTR" for n in names)
        + " | "
        + " | ".join(f"{n} new-item CTR" for n in names)
        + " |",
        "|---|" + "---|" * (2 * len(names)),
    ]
    for i in range(s["rounds"]):
        cells = []
        for n in names:
            r = results["policies"][n]["rounds"][i]
            cells.append(f"{r['click_rate']:.4f} [{r['click_rate_ci'][0]:.4f}, {r['click_rate_ci'][1]:.4f}]")
        for n in names:
            v = results["policies"][n]["rounds"][i]["new_item_click_rate"]
            cells.append("-" if v is None else f"{v:.4f}")
        lines.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Second half of the rounds vs frozen (paired bootstrap over shoppers)",
        "",
        "| policy | late CTR | lift vs frozen | 95% CI | new-item CTR (last round) | old-item CTR (last round) |",
        "|---|---|---|---|---|---|",
    ]
    for n, e in results["summary"].items():
        vs = e.get("vs_frozen")
        rel = f"{vs['relative']:+.1%}" if vs else "-"
        ci = f"[{vs['relative_ci'][0]:+.1%}, {vs['relative_ci'][1]:+.1%}]" if vs else "-"
        new = e["new_item_click_rate_last"]
        old = e["old_item_click_rate_last"]
        lines.append(
            f"| {n} | {e['late_click_rate']:.4f} | {rel} | {ci} | {'-' if new is None else f'{new:.4f}'} | "
            f"{'-' if old is None else f'{old:.4f}'} |"
        )
    pairs = [(n, other, vs) for n, e in results["summary"].items() for other, vs in (e.get("vs") or {}).items()]
    if pairs:
        lines += ["", "Updating policies against each other (rounds 6-10, paired bootstrap over shoppers):", ""]
        lines += ["| policy | vs | relative | 95% CI |", "|---|---|---|---|"]
        for n, other, vs in pairs:
            lo, hi = vs["relative_ci"]
            lines.append(f"| {n} | {other} | {vs['relative']:+.1%} | [{lo:+.1%}, {hi:+.1%}] |")
    op = results.get("off_policy")
    if op:
        lines += [
            "",
            f"## Off-policy check (round {op['round']}): {op['target_policy']}",
            "",
            f"true click rate {op['true_click_rate']:.4f}",
            "",
            "| estimator | estimate | 95% CI | relative error |",
            "|---|---|---|---|",
        ]
        for k, v in op["estimates"].items():
            err = op["relative_error"][k]
            lo, hi = op.get("intervals", {}).get(k, [float("nan")] * 2)
            lines.append(f"| {k} | {v:.4f} | [{lo:.4f}, {hi:.4f}] | {'-' if err is None else f'{err:+.1%}'} |")
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, data in results["policies"].items():
        rounds = [r["round"] for r in data["rounds"]]
        ax.plot(rounds, [r["click_rate"] for r in data["rounds"]], marker="o", label=name)
        ax.fill_between(
            rounds,
            [r["click_rate_ci"][0] for r in data["rounds"]],
            [r["click_rate_ci"][1] for r in data["rounds"]],
            alpha=0.15,
        )
    ax.set_xlabel("round")
    ax.set_ylabel("click rate (clicks per shown item)")
    ax.set_title(f"closed loop on {results['settings']['dataset']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def add_arguments(parser: Any) -> None:
    """The options of `bench/closed_loop.py` and `manage.py recommender_simulate` (one definition for both)."""
    defaults = SimSettings()
    parser.add_argument("--dataset", required=True, help="dataset folder (items.jsonl + events.csv)")
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--policies", default="frozen,online,online-explore", help=f"comma-separated, from {POLICIES}")
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--update-steps", type=int, default=defaults.update_steps)
    parser.add_argument("--update-lr", type=float, default=defaults.update_lr)
    parser.add_argument("--update-replay", type=float, default=defaults.update_replay, help="replayed batch share")
    parser.add_argument(
        "--train-epochs", type=int, default=defaults.train_epochs, help="initial training epochs (default: early stop)"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", required=True, help="folder for results.json, results.md, results.png")
    parser.add_argument("--progress", action="store_true")


def run_from_options(options: dict[str, Any]) -> dict[str, Any]:
    settings = SimSettings(
        rounds=options["rounds"],
        users=options["users"],
        update_steps=options["update_steps"],
        update_lr=options["update_lr"],
        update_replay=options["update_replay"],
        train_epochs=options["train_epochs"],
        seed=options["seed"],
    )
    policies = [p.strip() for p in options["policies"].split(",") if p.strip()]
    return simulate(
        dataset_path=options["dataset"],
        settings=settings,
        policies=policies,
        out_dir=Path(options["out"]),
        progress=options["progress"],
    )
