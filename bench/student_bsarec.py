"""Our student next to BSARec (AAAI 2024) on a leave-one-out split, both trained by the student's trainer.

    .venv/bin/python bench/student_bsarec.py --arm bsarec --split valid --seed 0 [--time-budget 1500]
    .venv/bin/python bench/student_bsarec.py --arm student --split valid --seed 0 [--time-budget 1500]
    .venv/bin/python bench/student_bsarec.py --arm student --set backbone='"bsarec"' ...   # ablations

Arms: "student" = StudentConfig defaults (text + ids, GPT-2 backbone); "bsarec" = model.bsarec_config(), BSARec's
published Beauty hyperparameters, ids only (ml/bsarec.py says how it differs from the paper's code). Both early-stop
on the validation targets (full-ranking NDCG@10). `--split valid` scores the validation targets from the training
histories (model selection: every choice is made there); `--split test` scores the test targets from train + the
validation item, for final configurations only. One arm per process, so two arms can run side by side (one thread
each) on a shared box. Every figure is printed with its protocol line and the load average.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import logging
import time

import _student_common as common
import numpy as np
import torch

from dragonrec.recommender.evaluation.dataset import leave_one_out, load_dataset
from dragonrec.recommender.evaluation.harness import accuracy, make_task, rank_all
from dragonrec.recommender.ml import Student
from dragonrec.recommender.ml.model import StudentConfig, bsarec_config
from dragonrec.recommender.ml.ranker import StudentRanker


def protocol_line(dataset: str, *, split: str, n_users: int, n_items: int, seeds: list[int], extra: str = "") -> str:
    """The protocol beside every figure (issue #23): split, ranking, masking, seeds."""
    target = "test target from train + validation item" if split == "test" else "validation target from train"
    line = (
        f"protocol: {dataset}, leave-one-out by time ({target}), {n_users:,} users, full ranking over all "
        f"{n_items:,} items (no sampled negatives), the user's history items masked, seeds {seeds}"
    )
    return f"{line}; {extra}" if extra else line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="amazon_beauty")
    ap.add_argument("--arm", choices=("student", "bsarec"), required=True)
    # "both": the selected model scored on validation, then on test (a final configuration: the published BSARec
    # hyperparameters, or the student's chosen ones) from one training run instead of two identical ones
    ap.add_argument("--split", choices=("valid", "test", "both"), default="valid")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--time-budget", type=float, default=None, help="stop training after this many seconds")
    ap.add_argument(
        "--users",
        type=int,
        default=None,
        help="early-stop on and score a seeded sample of this many users (all train: a crowded box's protocol)",
    )
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="override a config field")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    # the scored users (all, or a seeded sample); every user's training events are trained on either way
    split = leave_one_out(load_dataset(common.DATA / args.dataset), max_users=args.users, seed=args.seed)
    ds = split.dataset
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    overrides |= {"num_threads": args.threads, "time_budget_s": args.time_budget}
    if args.arm == "bsarec":
        config = bsarec_config(**overrides)
        vectors = np.zeros((ds.n_items, config.text_dim), dtype=np.float32)  # ids only, as the paper
    else:
        config = StudentConfig(**overrides)
        vectors = common.text_vectors(ds)
    before = os.getloadavg()
    started = time.perf_counter()
    users = sorted(split.train)
    student = Student.fit(
        sequences=[split.train[u] for u in users],
        product_ids=[p.id for p in ds.products],
        text_vectors=vectors,
        config=config,
        valid=[(split.train[u], split.valid_target[u]) for u in split.users],
        seed=args.seed,
    )
    wall = time.perf_counter() - started
    torch.set_num_threads(1)
    meta = student.meta
    budget = f"training budget {args.time_budget:.0f} s" if args.time_budget else "no time budget"
    after = os.getloadavg()
    for split_name in ("valid", "test") if args.split == "both" else (args.split,):
        task = make_task(split, "loo" if split_name == "test" else "loo-valid")
        ranks, _ = rank_all(StudentRanker(student), task, ds.n_items)
        m = accuracy(ranks)
        print()
        print(
            protocol_line(
                ds.name,
                split=split_name,
                n_users=len(task.users),
                n_items=ds.n_items,
                seeds=[args.seed],
                extra=f"{budget}, stopped: {meta['stopped_because']}, early stopping on the same users' "
                "validation targets",
            )
        )
        print(
            f"| {args.arm} | {split_name} | {m['ndcg@10']:.4f} | {m['recall@10']:.4f} | {meta['best_epoch']} | "
            f"{wall:.0f} | {tuple(round(x, 1) for x in before)} / {tuple(round(x, 1) for x in after)} |"
        )
    print("  (arm | split | N@10 | R@10 | best epoch | train s | load before / after)")
    print(f"config: {json.dumps({k: v for k, v in config.to_dict().items() if k != 'target_weights'})}")


if __name__ == "__main__":
    main()
