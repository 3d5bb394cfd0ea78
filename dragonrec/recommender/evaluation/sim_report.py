"""The closed-loop simulator's results: the late-rounds summary against frozen (paired bootstrap over shoppers),
results.json, results.md and results.png."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from dragonrec.recommender.evaluation.sim_world import PolicyState, SimSettings

log = logging.getLogger(__name__)


def summary(states: list[PolicyState], settings: SimSettings) -> dict[str, Any]:
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
