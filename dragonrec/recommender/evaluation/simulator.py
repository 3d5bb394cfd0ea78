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

The parts: `sim_world` (settings, shoppers, the initial student, the served pipeline: `evaluation.served`, as the
harness's `served` ranker builds it, with `SimSettings.pipeline`'s RECOMMENDER-shaped overrides), `sim_round` (a
round, the update, the off-policy check) and `sim_report` (summary and files); this module runs them.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dragonrec.recommender.evaluation.dataset import load_dataset
from dragonrec.recommender.evaluation.sim_report import markdown, plot, summary, write_results
from dragonrec.recommender.evaluation.sim_round import off_policy_check, run_round, update_policy
from dragonrec.recommender.evaluation.sim_world import (
    PolicyState,
    Shopper,
    SimSettings,
    World,
    build_pipeline,
    position_bias,
    train_initial_student,
)

# The parts stay importable from here (bench/closed_loop.py, bench/experiments.py and the command read them so).
__all__ = [
    "POLICIES",
    "PolicyState",
    "Shopper",
    "SimSettings",
    "World",
    "add_arguments",
    "build_pipeline",
    "markdown",
    "off_policy_check",
    "plot",
    "position_bias",
    "run_from_options",
    "run_round",
    "simulate",
    "train_initial_student",
    "update_policy",
    "write_results",
]

log = logging.getLogger(__name__)

# online: hourly updates, no exploration (every propensity is 1, so IPS and naive weights coincide);
# online-explore: with exploration and IPS-weighted rewards; online-explore-naive: exploration, unweighted rewards;
# online-explore-listwise: exploration, IPS-weighted clicks against the rest of their page (ml/online.py's forms).
POLICIES = ("frozen", "online", "online-explore", "online-explore-naive", "online-explore-listwise")


FORM_OF = {"naive": "naive", "listwise": "listwise"}  # a policy name's last word -> its update's reward form


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
        "summary": summary(states, settings),
        "timing": {"initial_training_s": train_s, "update_s": update_seconds},
        "off_policy": off_policy,
    }
    if out_dir is not None:
        write_results(results, out_dir)
    return results


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
