"""What an owner reads about a model version: its training curve, its gate figures beside cheap baselines computed
on the same held-out shoppers, per-slice figures, and the same in plain words.

    >>> version_quality_record(version=v, student=s, train=train, gate=gate)   # metrics["baselines"], ["slices"]
    >>> version_summary(v)    # "NDCG@10 on held-out shoppers 0.056, +4% over v3; item-kNN 0.047, popularity 0.005"
    >>> training_curve_svg([v1, v2])   # loss and validation NDCG@10 per epoch (or per step of an online update)

The baselines are popularity and item-kNN (evaluation.baselines) fitted on the version's training sequences and
scored on its gate pairs exactly as the student is (full ranking, history items removed, an unknown target a miss),
so "the model beats item-kNN by 20%" is a like-for-like statement.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dragonrec.recommender.core.base import Ranker
from dragonrec.recommender.core.types import Context, HistoryEvent, ProductId
from dragonrec.recommender.models import ModelVersion

if TYPE_CHECKING:  # the student (torch) is imported only when a report is computed
    from dragonrec.recommender.ml.student import Student

logger = logging.getLogger(__name__)

# item-kNN's co-occurrence matrix grows with the catalog squared at worst: above this the baseline is skipped (the
# gate figure still is computed) so a large shop's nightly job does not spend its time on a reference figure
BASELINE_MAX_ITEMS = 200_000
BASELINE_BATCH = 512  # gate histories scored at once: 512 x 200k float32 = 400 MB at the cap, 0.6 MB for the demo
# history lengths of a gate shopper (events before the held-out one): new, returning, regular shoppers
SLICES: tuple[tuple[str, int, int | None], ...] = (
    ("2-4 events", 2, 4),
    ("5-19 events", 5, 19),
    ("20+ events", 20, None),
)
BASELINE_LABELS = {"item_knn": "item-kNN", "popularity": "popularity"}


# ------------------------------------------------------------------------------------------------ training log
def training_log_rows(history: Sequence[Any]) -> list[dict[str, Any]]:
    """A trainer's per-epoch records (ml.train.EpochLog or their dicts) as JSON rows:
    {"epoch", "loss", "valid_ndcg10"} (valid_ndcg10 None when validation did not run that epoch)."""
    rows = []
    for entry in history:
        row = entry if isinstance(entry, dict) else vars(entry)
        valid = row.get("valid") or {}
        rows.append(
            {
                "epoch": int(row["epoch"]),
                "loss": round(float(row["loss"]), 6),
                "valid_ndcg10": (round(float(valid["ndcg@10"]), 6) if "ndcg@10" in valid else row.get("valid_ndcg10")),
                "seconds": round(float(row.get("seconds") or 0.0), 1),
            }
        )
    return rows


# ------------------------------------------------------------------------------------------------ baselines
def _dense(
    train: Sequence[Sequence[HistoryEvent]], product_ids: Sequence[ProductId]
) -> tuple[dict[ProductId, int], list[list[HistoryEvent]]]:
    index = {pid: k for k, pid in enumerate(product_ids)}
    sequences = [
        [HistoryEvent(index[e.product_id], e.event_type, e.timestamp) for e in events if e.product_id in index]
        for events in train
    ]
    return index, sequences


Pairs = Sequence[tuple[Sequence[HistoryEvent], ProductId]]
Fitted = tuple[Ranker, dict[ProductId, int]]  # a baseline fitted on dense ids, and the product id -> dense id map


def _ndcg10(ranker: Ranker, pairs: Pairs, index: dict[ProductId, int]) -> float:
    from dragonrec.recommender.core.metrics import ranking_metrics, target_ranks

    n_items = len(index)
    ranks = []
    for start in range(0, len(pairs), BASELINE_BATCH):
        chunk = pairs[start : start + BASELINE_BATCH]
        contexts = [
            Context(
                history=[
                    HistoryEvent(index[e.product_id], e.event_type, e.timestamp) for e in h if e.product_id in index
                ]
            )
            for h, _ in chunk
        ]
        scores = np.array(ranker.score_batch(contexts, range(n_items)), dtype=np.float32)
        dense = np.array([index.get(t, -1) for _, t in chunk], dtype=np.int64)
        for row, ctx in enumerate(contexts):
            seen = np.array([e.product_id for e in ctx.history], dtype=np.int64)
            scores[row, seen[seen != dense[row]]] = -np.inf  # as student_ranking_metrics: a repeated target stays
        chunk_ranks = np.full(len(chunk), n_items + 1, dtype=np.int64)  # an unknown target is a miss
        known = dense >= 0
        if known.any():
            chunk_ranks[known] = target_ranks(scores[known], dense[known])
        ranks.append(chunk_ranks)
    return float(ranking_metrics(np.concatenate(ranks), (10,))["ndcg@10"]) if ranks else 0.0


def gate_baselines(
    *,
    train: Sequence[Sequence[HistoryEvent]],
    gate: Sequence[tuple[Sequence[HistoryEvent], ProductId]],
    product_ids: Sequence[ProductId],
) -> dict[str, float]:
    """Popularity's and item-kNN's NDCG@10 on the gate pairs, fitted on the training sequences."""
    from dragonrec.recommender.evaluation.baselines import ItemKNNRanker, PopularityRanker

    if not gate or not product_ids:
        return {}
    index, sequences = _dense(train, product_ids)
    out = {"popularity": _ndcg10(PopularityRanker(sequences, n_items=len(index)), gate, index)}
    if len(index) <= BASELINE_MAX_ITEMS:
        out["item_knn"] = _ndcg10(ItemKNNRanker(sequences, n_items=len(index)), gate, index)
    return out


def gate_slices(
    *,
    student: Student,
    gate: Sequence[tuple[Sequence[HistoryEvent], ProductId]],
    baselines: dict[str, Fitted] | None = None,
) -> list[dict[str, Any]]:
    """The student's (and, given fitted rankers, the baselines') NDCG@10 per slice of gate shoppers by history
    length: a model that only helps regulars shows it here."""
    from dragonrec.recommender.ml.metrics import student_ranking_metrics

    rows = []
    for label, low, high in SLICES:
        mine = [p for p in gate if len(p[0]) >= low and (high is None or len(p[0]) <= high)]
        row: dict[str, Any] = {"slice": label, "shoppers": len(mine), "ndcg10": None}
        if mine:
            row["ndcg10"] = float(student_ranking_metrics(student, mine, ks=(10,))["ndcg@10"])
            for name, (ranker, index) in (baselines or {}).items():
                row[name] = _ndcg10(ranker, mine, index)
        rows.append(row)
    return rows


def version_quality_record(
    *,
    version: ModelVersion,
    student: Student,
    train: Sequence[Sequence[HistoryEvent]],
    gate: Sequence[tuple[Sequence[HistoryEvent], ProductId]],
) -> ModelVersion:
    """Store the baselines and per-slice figures of `version` on its gate split in `version.metrics`. Never fails
    the training that called it: a reference figure is not worth a lost model."""
    from dragonrec.recommender.evaluation.baselines import ItemKNNRanker, PopularityRanker

    try:
        product_ids = list(student.product_ids)
        version.metrics["baselines"] = gate_baselines(train=train, gate=gate, product_ids=product_ids)
        index, sequences = _dense(train, product_ids)
        fitted: dict[str, Fitted] = {"popularity": (PopularityRanker(sequences, n_items=len(index)), index)}
        if "item_knn" in version.metrics["baselines"]:
            fitted["item_knn"] = (ItemKNNRanker(sequences, n_items=len(index)), index)
        version.metrics["slices"] = gate_slices(student=student, gate=gate, baselines=fitted)
        version.metrics["gate_users"] = len(gate)
    except Exception:
        logger.exception("could not compute the baselines of %s", version.version)
        return version
    version.save(update_fields=["metrics"])
    return version


def slice_rows(versions: Sequence[ModelVersion]) -> list[dict[str, Any]]:
    """Per slice of held-out shoppers: each version's NDCG@10 with item-kNN's beside it, as table cells."""
    labels = [label for label, _, _ in SLICES]
    rows = []
    for label in labels:
        cells = []
        for v in versions:
            mine = next((r for r in (v.metrics or {}).get("slices") or [] if r.get("slice") == label), None)
            if mine is None or mine.get("ndcg10") is None:
                cells.append({"shoppers": (mine or {}).get("shoppers", 0), "ndcg": "-", "knn": "-"})
                continue
            knn = mine.get("item_knn")
            cells.append(
                {
                    "shoppers": mine["shoppers"],
                    "ndcg": f"{mine['ndcg10']:.3f}",
                    "knn": f"{knn:.3f}" if isinstance(knn, int | float) else "-",
                }
            )
        if any(c["ndcg"] != "-" for c in cells):
            rows.append({"slice": label, "cells": cells})
    return rows


# ------------------------------------------------------------------------------------------------ plain words
def _pct(mine: float, theirs: float) -> str:
    return f"{100 * (mine / theirs - 1):+.0f}%" if theirs else "n/a"


def version_summary(version: ModelVersion) -> str:
    """The gate's figures in a sentence, e.g. "NDCG@10 on 120 held-out shoppers 0.056, +4% over v3 (0.054);
    item-kNN 0.047 (+19%), popularity 0.005"."""
    metrics = version.metrics or {}
    gate = metrics.get("gate_ndcg@10")
    if not isinstance(gate, int | float):
        return "Not scored on held-out shoppers (too little data when it was trained)."
    users = metrics.get("gate_users") or version.data_snapshot.get("gate_users")
    text = f"NDCG@10 on {users} held-out shoppers {gate:.3f}" if users else f"NDCG@10 on held-out shoppers {gate:.3f}"
    other = metrics.get("active_gate_ndcg@10")
    if metrics.get("gate_compared_with") and isinstance(other, int | float):
        text += f", {_pct(gate, other)} over {metrics['gate_compared_with']} ({other:.3f})"
    baselines = metrics.get("baselines") or {}
    parts = [
        f"{BASELINE_LABELS[name]} {value:.3f} (the model {_pct(gate, value)})"
        for name, value in baselines.items()
        if name in BASELINE_LABELS and isinstance(value, int | float)
    ]
    if parts:
        text += "; " + ", ".join(parts)
    return text + "."


def owner_name(version: str, kind: str = "") -> str:
    """The name an owner reads: "Personal model v3" (and "(hourly update)" for an online update)."""
    return f"Personal model {version}" + (" (hourly update)" if kind == ModelVersion.Kind.ONLINE else "")


# ------------------------------------------------------------------------------------------------ plots
def training_curve_svg(versions: Sequence[ModelVersion]) -> str:
    """Loss and validation NDCG@10 per epoch of each version (an online update's loss per step), side by side;
    "" when no version has a training log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logged = [v for v in versions if any(isinstance(r, dict) for r in v.training_log or [])]
    if not logged:
        return ""
    fig, (loss_ax, ndcg_ax) = plt.subplots(1, 2, figsize=(7.5, 2.8))
    for v in logged:
        rows = [r for r in v.training_log if isinstance(r, dict)]
        x_key = "epoch" if any("epoch" in r for r in rows) else "step"
        loss = [(r[x_key], r["loss"]) for r in rows if r.get(x_key) is not None and r.get("loss") is not None]
        ndcg = [(r[x_key], r["valid_ndcg10"]) for r in rows if r.get("valid_ndcg10") is not None]
        label = f"{v.version} ({'per step' if x_key == 'step' else 'per epoch'})"
        if loss:
            loss_ax.plot(*zip(*loss, strict=True), marker="." if len(loss) > 20 else "o", label=label)
        if ndcg:
            ndcg_ax.plot(*zip(*ndcg, strict=True), marker="o", label=v.version)
    loss_ax.set_title("training loss")
    loss_ax.set_xlabel("epoch (online update: step)")
    ndcg_ax.set_title("validation NDCG@10")
    ndcg_ax.set_xlabel("epoch")
    for ax in (loss_ax, ndcg_ax):
        ax.tick_params(labelsize=7)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    # scale with the page (a phone), never wider than it
    return text[text.index("<svg") :].replace(
        "<svg ", '<svg class="dragonrec-plot" style="max-width:100%;height:auto" ', 1
    )
