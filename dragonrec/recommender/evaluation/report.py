"""Turn harness results into a Markdown table (with published anchors beside) and a PNG plot.

>>> print(markdown_report(results))
>>> plot_results(results, Path("var/eval/beauty/results.png"))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Anchor:
    model: str
    recall_at_10: float
    ndcg_at_10: float
    source: str


_TIGER = "Rajput et al., TIGER, NeurIPS 2023, Table 1"
_ESASREC = "eSASRec (2025)"
_ACTIONPIECE = "ActionPiece (Hou et al., 2025)"

# Full ranking, leave-one-out, the same P5/S3-Rec splits as ../shared/data: comparable with our numbers.
PUBLISHED_ANCHORS: dict[str, tuple[Anchor, ...]] = {
    "amazon_beauty": (
        Anchor("SASRec (BCE)", 0.0605, 0.0318, _TIGER),
        Anchor("TIGER", 0.0648, 0.0384, _TIGER),
        Anchor("ActionPiece", 0.0775, 0.0424, _ACTIONPIECE),
        Anchor("SASRec + sampled softmax", 0.0921, 0.0531, _ESASREC),
        Anchor("eSASRec", 0.0928, 0.0523, _ESASREC),
    ),
    "amazon_sports": (
        Anchor("TIGER", 0.0400, 0.0225, _TIGER),
        Anchor("eSASRec", 0.0560, 0.0323, _ESASREC),
    ),
    "amazon_toys": (
        Anchor("TIGER", 0.0712, 0.0432, _TIGER),
        Anchor("SASRec + sampled softmax", 0.0970, 0.0580, _ESASREC),
    ),
}

_COLUMNS: tuple[tuple[str, str], ...] = (
    ("recall@5", "R@5"),
    ("recall@10", "R@10"),
    ("recall@20", "R@20"),
    ("ndcg@5", "N@5"),
    ("ndcg@10", "N@10"),
    ("ndcg@20", "N@20"),
    ("mrr", "MRR"),
    ("ild@10", "ILD@10"),
    ("category_coverage@10", "Cats@10"),
    ("catalog_coverage@10", "Cov@10"),
    ("novelty@10", "Nov@10"),
)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def markdown_report(results: dict[str, Any]) -> str:
    """The results table, the slices, what could not run, and the published anchors for this dataset."""
    settings = results["settings"]
    lines = [
        f"### {settings['dataset']}: {settings['protocol']}",
        "",
        f"{settings['users_evaluated']} users{' (seeded sample)' if settings['sampled'] else ''}, "
        f"{settings['n_items']} items, full ranking, input-history items excluded. "
        f"Beyond-accuracy columns on the top {settings['beyond_k']}: intra-list diversity (mean pairwise cosine "
        f"distance), distinct leaf categories per list, catalog coverage, novelty (mean -log2 popularity).",
        "",
        _row(["ranker", *[label for _, label in _COLUMNS], "seconds"]),
        _row(["---"] + ["---:"] * (len(_COLUMNS) + 1)),
    ]
    for name, metrics in results["rankers"].items():
        cells = [
            f"{metrics[key]:.4f}" if key != "category_coverage@10" else f"{metrics[key]:.2f}" for key, _ in _COLUMNS
        ]
        lines.append(_row([name, *cells, f"{results['timing'].get(name, 0.0):.0f}"]))
    lines += _slice_lines(results)
    for name, reason in results.get("unavailable", {}).items():
        lines.append(f"\n*{name}: unavailable ({reason})*")
    for note in settings.get("notes", []):
        lines.append(f"\n*{note}*")
    lines += _anchor_lines(settings["dataset"])
    return "\n".join(lines) + "\n"


def _slice_lines(results: dict[str, Any]) -> list[str]:
    first: dict[str, Any] = next(iter(results["rankers"].values()), {})
    slice_names = list(first.get("slices", {}))
    if not slice_names:
        return []
    lines = ["", "Slices (R@10 / N@10):", "", _row(["ranker", *slice_names]), _row(["---"] * (len(slice_names) + 1))]
    for name, metrics in results["rankers"].items():
        cells = [
            f"{s['recall@10']:.4f} / {s['ndcg@10']:.4f} (n={s['users']})" if s["users"] else "n/a (n=0)"
            for s in metrics["slices"].values()
        ]
        lines.append(_row([name, *cells]))
    return lines


def _anchor_lines(dataset: str) -> list[str]:
    anchors = PUBLISHED_ANCHORS.get(dataset)
    if not anchors:
        return ["", f"*No published full-ranking anchors recorded for {dataset}.*"]
    lines = [
        "",
        "Published anchors (same split, full ranking, leave-one-out):",
        "",
        _row(["model", "R@10", "N@10", "source"]),
        _row(["---", "---:", "---:", "---"]),
    ]
    lines += [_row([a.model, f"{a.recall_at_10:.4f}", f"{a.ndcg_at_10:.4f}", a.source]) for a in anchors]
    return lines


def plot_results(results: dict[str, Any], path: Path) -> Path:
    """Bar charts of NDCG@10 and catalog coverage@10 per ranker (anchors' NDCG@10 as dashed lines)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    names = list(results["rankers"])
    ndcg = [results["rankers"][n]["ndcg@10"] for n in names]
    coverage = [results["rankers"][n]["catalog_coverage@10"] for n in names]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.bar(names, ndcg, color="tab:blue")
    for number, anchor in enumerate(PUBLISHED_ANCHORS.get(results["settings"]["dataset"], ())):
        left.axhline(anchor.ndcg_at_10, linestyle="--", linewidth=0.8, color="gray")
        # Alternate label sides: anchors with close values (eSASRec, SASRec+SS) would print over each other.
        x, side = (len(names) - 0.5, "right") if number % 2 == 0 else (-0.5, "left")
        left.annotate(anchor.model, (x, anchor.ndcg_at_10), fontsize=7, ha=side, va="bottom")
    left.set_title("NDCG@10 (dashed: published)")
    right.bar(names, coverage, color="tab:green")
    right.set_title("Catalog coverage of the top 10")
    for axis in (left, right):
        axis.tick_params(axis="x", rotation=30)
    figure.suptitle(f"{results['settings']['dataset']}: {results['settings']['protocol']}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
