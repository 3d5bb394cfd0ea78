"""What shoppers get vs the bare student, and what each re-ranking piece costs or earns. No Django.

    python bench/served.py --datasets amazon_beauty,amazon_scientific --seeds 0,1 --split loo-valid --max-users 5000
    python bench/served.py --datasets amazon_beauty --seeds 0 --split loo --ablations          # the ablation table
    python bench/served.py --datasets amazon_beauty --seeds 0 --set DIVERSITY=0.3 --set DIVERSITY_KEEP_TOP=2
    python bench/served.py --datasets amazon_beauty --seeds 0,1 --exploration    # the accuracy cost of exploring
    python bench/served.py --datasets amazon_beauty --seeds 0 --student-set prefix_targets=true  # another student

Protocol: the harness's leave-one-out split and rankers (recommender.evaluation.harness). `student` is the bare
student trained on the train part (early-stopped on the validation targets); `served` is the harness's `served`
ranker: core.pipeline.build_pipeline, the function serving calls, with the RECOMMENDER defaults, that student as
ranker and candidate source, and the full re-rank. Variants override pipeline settings on the same student and
stores (`--set KEY=JSON` overrides them for every variant). Tune with `--split loo-valid` (validation target,
input = train), report with `--split loo` (test target, input = train + validation item).

Columns: NDCG@10, HR@10, distinct leaf categories per top-10 list, NDCG@10 on the rare-target slice (targets
touched by <= 5 training users) and on the cross-category slice (targets whose leaf category differs from the last
input item's: "what comes next is something else", where diversity should help), and NDCG@10 as a share of the bare
student's on the same users, overall and on the cross-category slice.

Students are trained once per (dataset, seed) and cached under --student-cache (default /tmp/dragonrec-students).
The student's user vectors for the evaluated histories are computed once in batches and reused by every variant
(the per-request forward pass would otherwise dominate); the ranking, fusion and re-ranking run per request, as
served.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

# Before numpy loads: one BLAS thread (see harness.single_threaded_blas for why).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from dragonrec.recommender.core.base import Ranker  # noqa: E402
from dragonrec.recommender.evaluation.dataset import leave_one_out, load_dataset  # noqa: E402
from dragonrec.recommender.evaluation.harness import (  # noqa: E402
    CROSS_CATEGORY,
    RARE_ITEM_MAX_COUNT,
    EvalResources,
    build_served,
    evaluate,
    make_catalog,
    make_task,
    split_student,
)

DATA = ROOT.parent / "shared" / "data"
RARE = f"rare targets (<= {RARE_ITEM_MAX_COUNT} train users)"
OFF = {"DIVERSITY": 0.0, "CATEGORY_CAP": None, "CATEGORY_BONUS": 0.0, "CONTENT_BLEND": 0.0}
# the defaults before bench/served.py: MMR over all similarity on every slot, a hard cap, no bonus
CLASSIC = {
    "DIVERSITY": 0.2,
    "DIVERSITY_KEEP_TOP": 0,
    "DIVERSITY_THRESHOLD": 0.0,
    "CATEGORY_CAP": 3,
    "CATEGORY_BONUS": 0.0,
}
# name -> pipeline settings on top of the defaults; None = the bare student
ABLATIONS: dict[str, dict[str, Any] | None] = {
    "student (bare)": None,
    "served, re-rank and blend off": OFF,
    "old default: classic MMR 0.2 + cap 3, no blend": {**CLASSIC, "CONTENT_BLEND": 0.0},
    "classic MMR 0.2 only": {**CLASSIC, "CATEGORY_CAP": None, "CONTENT_BLEND": 0.0},
    "cap 3 only": {**OFF, "CATEGORY_CAP": 3},
    "category bonus only (0.1, below slot 3)": {**OFF, "CATEGORY_BONUS": 0.1},
    "near-duplicate MMR only (0.1, cos > 0.9, below slot 3)": {**OFF, "DIVERSITY": 0.1},
    "content blend only (0.5, pivot 20)": {**OFF, "CONTENT_BLEND": 0.5},
    "served without the content blend": {"CONTENT_BLEND": 0.0},
    "served without the near-duplicate MMR": {"DIVERSITY": 0.0},
    "served (defaults)": {},
}
MAIN: dict[str, dict[str, Any] | None] = {"student": None, "served": {}}
log = logging.getLogger("bench.served")


def run(
    dataset: str,
    seed: int,
    *,
    split_name: str,
    max_users: int | None,
    variants: dict[str, dict[str, Any] | None],
    settings: dict[str, Any],
    cache: Path,
    student_config: Any = None,
) -> dict[str, dict[str, float]]:
    data = leave_one_out(load_dataset(DATA / dataset if not Path(dataset).exists() else dataset), max_users=max_users)
    res = EvalResources(
        split=data, seed=seed, progress=False, student_cache_dir=cache, settings=settings, student_config=student_config
    )
    task = make_task(data, split_name)
    catalog = make_catalog(data, res.item_vectors)
    student = split_student(data, res)
    student.remember_user_vectors(task.inputs)
    rows: dict[str, dict[str, float]] = {}
    for name, overrides in variants.items():
        started = time.perf_counter()
        if overrides is None:
            from dragonrec.recommender.ml.ranker import StudentRanker

            ranker: Ranker = StudentRanker(student)
        else:
            ranker = build_served(data, res, settings=overrides)
        result = evaluate(ranker, data, task, catalog)
        rows[name] = {
            "ndcg@10": result["ndcg@10"],
            "hr@10": result["recall@10"],
            "cats@10": result["category_coverage@10"],
            "rare_ndcg@10": result["slices"][RARE]["ndcg@10"],
            "rare_users": result["slices"][RARE]["users"],
            "cross_ndcg@10": result["slices"][CROSS_CATEGORY]["ndcg@10"],
            "cross_users": result["slices"][CROSS_CATEGORY]["users"],
            "seconds": round(time.perf_counter() - started, 1),
        }
        log.info("%s seed %s %s: %s", dataset, seed, name, rows[name])
    return rows


def table(dataset: str, per_seed: dict[int, dict[str, dict[str, float]]]) -> str:
    seeds = sorted(per_seed)
    names = list(per_seed[seeds[0]])
    reference = next((n for n in names if n.startswith("student")), None)
    lines = [
        f"#### {dataset} (seeds {', '.join(map(str, seeds))}; mean, per seed in brackets)",
        "",
        "| ranker | NDCG@10 | HR@10 | leaf cats/list | rare-target NDCG@10 | cross-category NDCG@10 "
        "| % of student NDCG@10 | % of student, cross-category |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in names:
        cells = []
        for key, digits in (("ndcg@10", 4), ("hr@10", 4), ("cats@10", 2), ("rare_ndcg@10", 4), ("cross_ndcg@10", 4)):
            values = [per_seed[s][name][key] for s in seeds]
            each = " / ".join(f"{v:.{digits}f}" for v in values)
            cells.append(f"{np.mean(values):.{digits}f}" + (f" ({each})" if len(seeds) > 1 else ""))
        for key in ("ndcg@10", "cross_ndcg@10"):
            if reference:
                shares = [per_seed[s][name][key] / max(per_seed[s][reference][key], 1e-12) for s in seeds]
                each = " / ".join(f"{x:.1%}" for x in shares)
                cells.append(f"{np.mean(shares):.1%}" + (f" ({each})" if len(seeds) > 1 else ""))
            else:
                cells.append("-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--datasets", default="amazon_beauty,amazon_scientific,movielens_100k")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--split", default="loo", choices=("loo", "loo-valid"))
    parser.add_argument("--max-users", type=int, default=None, help="evaluate a seeded sample (seed 0) of users")
    parser.add_argument("--ablations", action="store_true", help="every re-ranking piece on and off")
    parser.add_argument(
        "--exploration",
        action="store_true",
        help="also the served page with the home scenario's exploration (RECOMMENDER EXPLORATION defaults) drawn",
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="pipeline setting override")
    parser.add_argument("--student-cache", default="/tmp/dragonrec-students")
    parser.add_argument(
        "--student-budget", type=float, default=None, help="train the split student for at most this many seconds"
    )
    parser.add_argument(
        "--student-set",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="a StudentConfig field for the split student, e.g. prefix_targets=true",
    )
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    settings = {}
    for item in args.set:
        key, value = item.split("=", 1)
        settings[key] = json.loads(value)
    student_config = None
    if args.student_budget is not None or args.student_set:
        from dragonrec.recommender.ml.model import StudentConfig

        fields = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.student_set)}
        student_config = StudentConfig(time_budget_s=args.student_budget, **fields)
    variants = dict(ABLATIONS if args.ablations else MAIN)
    if args.exploration:
        from dragonrec.recommender.conf import DEFAULTS

        variants["served + exploration (home)"] = {"EXPLORATION": {"home": DEFAULTS["EXPLORATION"]["home"]}}
    results: dict[str, dict[int, dict[str, dict[str, float]]]] = {}
    for dataset in args.datasets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            results.setdefault(dataset, {})[seed] = run(
                dataset,
                seed,
                split_name=args.split,
                max_users=args.max_users,
                variants=variants,
                settings=settings,
                cache=Path(args.student_cache),
                student_config=student_config,
            )
    target = "validation target" if args.split == "loo-valid" else "test target"
    users = f"{args.max_users} sampled users" if args.max_users else "all users"
    print(f"### served vs student ({target}, {users}, settings overrides {settings or 'none'})\n")
    for dataset, per_seed in results.items():
        print(table(dataset, per_seed) + "\n")
    if args.out:
        Path(args.out).write_text(json.dumps({"settings": settings, "split": args.split, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
