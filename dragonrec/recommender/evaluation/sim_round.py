"""One round of the closed-loop simulator for one policy (serve, click, buy, move on), the hourly update between
rounds, and the off-policy check on the exploring policy's log. See `simulator` for the shopper model."""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

import numpy as np

from dragonrec.recommender.core import offpolicy
from dragonrec.recommender.core.experiments import ratio_metric
from dragonrec.recommender.core.exploration import ExplorationConfig
from dragonrec.recommender.core.pipeline import Pipeline
from dragonrec.recommender.core.types import Context, HistoryEvent
from dragonrec.recommender.evaluation.sim_world import (
    PolicyState,
    Shopper,
    World,
    build_pipeline,
    position_bias,
    uniforms,
)


def serve(
    pipeline: Pipeline, shopper: Shopper, *, n: int, exploration: ExplorationConfig, seed: int
) -> list[tuple[int, float, float]]:
    """One home page for one shopper as serving answers it: (product id, score, logged propensity) per position."""
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
        page = serve(pipeline, shopper, n=s.n, exploration=exploration, seed=seed)
        relevant = set(shopper.future[: s.relevant_window])
        draws = uniforms(s.seed, round_no, u, 2 * len(page) + 1, replicate)
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
