"""Offline evaluation from the command line, no Django settings needed.

    python bench/evaluate.py --dataset ../shared/data/amazon_beauty --rankers popularity,itemknn --out var/eval/beauty

Writes results.json, results.md and results.png to --out and prints the Markdown table. Same options as
`manage.py recommender_evaluate`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

# Before numpy loads: one BLAS thread (see harness.single_threaded_blas for why).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dragonrec.recommender.evaluation.harness import DEFAULT_RANKERS, RANKERS, SPLITS, run_evaluation  # noqa: E402


def protocol_line(settings: dict[str, Any]) -> str:
    """Split, full ranking or sampled, history masked or not, seeds: printed beside every table (issue #23)."""
    sample = (
        f"a sample of {settings['users_evaluated']:,} of {settings['users_total']:,} users"
        if settings["sampled"]
        else f"all {settings['users_total']:,} users"
    )
    masked = "history items masked" if settings["history_excluded"] else "history items NOT masked"
    return (
        f"protocol: {settings['dataset']}, split {settings['split']}: {settings['protocol']} over all "
        f"{settings['n_items']:,} items (no sampled negatives), {masked}, {sample}, seeds [{settings['seed']}]"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset", required=True, help="dataset folder (items.jsonl + events.csv)")
    parser.add_argument(
        "--rankers",
        default=",".join(DEFAULT_RANKERS),
        help=f"comma-separated, from {sorted(RANKERS)} (default: {','.join(DEFAULT_RANKERS)})",
    )
    parser.add_argument("--split", default="loo", choices=SPLITS)
    parser.add_argument("--max-users", type=int, default=None, help="evaluate a seeded random sample of users")
    parser.add_argument("--out", default=None, help="output folder (default var/eval/<dataset>)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    results = run_evaluation(
        dataset_path=args.dataset,
        rankers=[name.strip() for name in args.rankers.split(",") if name.strip()],
        split=args.split,
        max_users=args.max_users,
        out_dir=args.out,
        seed=args.seed,
        progress=not args.no_progress,
    )
    out_dir = Path(results["settings"]["out_dir"])
    print((out_dir / "results.md").read_text())
    print(protocol_line(results["settings"]))
    print(f"wrote {out_dir}/results.{{json,md,png}} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
